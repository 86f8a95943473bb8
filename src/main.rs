use std::process::ExitCode;

fn main() -> ExitCode {
    reflex_django::main(std::env::args_os())
}
