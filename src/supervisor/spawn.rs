//! Forking children, and reaping the grandchildren that become ours.
//!
//! Every child is forked by one dedicated thread that lives as long as the process.
//! Linux's parent-death signal ([`platform::die_with_parent`]) fires when the *thread*
//! that forked the child ends, not the process; forking from tokio's worker or
//! blocking-pool threads (which come and go) would kill children at random. The child
//! arms the signal right after fork and then checks `getppid()`: if we died before it
//! was armed, it exits instead of running on.
//!
//! As a child subreaper ([`platform::become_subreaper`]), this process adopts every orphaned
//! descendant of its children, and must reap them when they die. tokio reaps the
//! children it spawned itself with `waitpid(pid)`; reaping with `waitpid(-1)` would steal
//! their exit statuses. So we reap only zombies that are not tracked children, and only
//! those outside our own process group: supervised children and everything below them
//! live in other groups, while helper commands that other code runs with
//! `std::process::Command` stay in ours and are waited for by that code.

use std::io;
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};

use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getpgrp};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::platform;

/// The pids of children spawned here whose exit status tokio has not yet collected.
/// Held while forking and while reaping, so the reaper never sees a child that exists
/// but is not yet tracked.
static TRACKED: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn tracked() -> MutexGuard<'static, Vec<i32>> {
    // A panic while holding the lock leaves a list that is still valid.
    TRACKED.lock().unwrap_or_else(|e| e.into_inner())
}

struct Request {
    command: Command,
    runtime: tokio::runtime::Handle,
    reply: oneshot::Sender<io::Result<Child>>,
}

/// The forking thread's mailbox; the thread is started on first use and never stopped.
static SPAWNER: Mutex<Option<mpsc::Sender<Request>>> = Mutex::new(None);

fn send_to_spawner(request: Request) -> io::Result<()> {
    let mut spawner = SPAWNER.lock().unwrap_or_else(|e| e.into_inner());
    let tx = match &*spawner {
        Some(tx) => tx,
        None => spawner.insert(start_spawner()?),
    };
    tx.send(request)
        .map_err(|_| io::Error::other("the spawner thread has stopped"))
}

fn start_spawner() -> io::Result<mpsc::Sender<Request>> {
    let (tx, rx) = mpsc::channel::<Request>();
    std::thread::Builder::new()
        .name("reflex-django-spawner".into())
        .spawn(move || {
            for request in rx {
                // tokio registers the child with the runtime it is spawned in.
                let _runtime = request.runtime.enter();
                let mut command = request.command;
                let mut tracked = tracked();
                let child = command.spawn();
                if let Ok(child) = &child {
                    tracked.extend(child.id().map(|pid| pid as i32));
                }
                drop(tracked);
                let _ = request.reply.send(child);
            }
        })?;
    Ok(tx)
}

/// Spawns `command` from the spawner thread, in a new process group of its own.
/// With `die_with_parent`, the child is SIGKILLed by the kernel when this process dies.
pub async fn spawn(mut command: Command, die_with_parent: bool) -> io::Result<Child> {
    command.process_group(0);
    if die_with_parent {
        platform::die_with_parent(&mut command);
    }
    let (reply, answer) = oneshot::channel();
    let request = Request {
        command,
        runtime: tokio::runtime::Handle::current(),
        reply,
    };
    send_to_spawner(request)?;
    answer
        .await
        .unwrap_or_else(|_| Err(io::Error::other("the spawner thread has stopped")))
}

/// Forgets a child whose exit status tokio has collected.
pub fn untrack(pid: i32) {
    tracked().retain(|p| *p != pid);
}

/// Reaps the adopted zombies (see the module docs for which ones). Returns how many.
pub fn reap_adopted() -> usize {
    let me = std::process::id() as i32;
    let our_group = getpgrp().as_raw();
    let tracked = tracked();
    let mut reaped = 0;
    for p in platform::processes() {
        let adopted = p.ppid == me && p.pgid != our_group && !tracked.contains(&p.pid);
        if adopted && p.is_dead() {
            // WNOHANG: a zombie answers at once; never block the caller on a live one.
            if waitpid(Pid::from_raw(p.pid), Some(WaitPidFlag::WNOHANG)).is_ok() {
                reaped += 1;
            }
        }
    }
    reaped
}

/// A spawned child and its exit, once known.
pub struct Process {
    pub child: Child,
    pub pid: i32,
    exit: Option<super::event::Exit>,
}

impl Process {
    pub fn new(child: Child) -> Option<Self> {
        let pid = child.id()? as i32;
        Some(Process {
            child,
            pid,
            exit: None,
        })
    }

    pub fn has_exited(&self) -> bool {
        self.exit.is_some()
    }

    /// Waits for the child to end; cancel-safe, and cheap once it has ended.
    pub async fn wait(&mut self) -> super::event::Exit {
        if let Some(exit) = self.exit {
            return exit;
        }
        let exit = match self.child.wait().await {
            Ok(status) => status.into(),
            // Only when tokio lost the child, which it does not do; treat it as gone.
            Err(_) => super::event::Exit::Code(-1),
        };
        untrack(self.pid);
        self.exit = Some(exit);
        exit
    }
}
