//! Precompressed variants: `name.br` and `name.gz` next to every compressible file, so
//! the front door sends compressed bytes without compressing per request.
//!
//! A variant is written only when it is smaller, through a temporary file renamed over
//! it (a reader never sees half of one); an existing variant at least as new as its
//! file is kept. The caller makes them durable (see [`super::sync`]) before it writes
//! the build stamp.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Context, Error, Result};

/// Types worth compressing; images, fonts in woff2 and archives already are.
const COMPRESSIBLE: &[&str] = &[
    "html",
    "htm",
    "js",
    "mjs",
    "cjs",
    "css",
    "json",
    "map",
    "svg",
    "txt",
    "xml",
    "wasm",
    "ico",
    "ttf",
    "otf",
    "eot",
    "webmanifest",
    "md",
    "csv",
];

/// Smaller files gain little, and cost a request-time lookup for nothing.
const MIN_SIZE: u64 = 512;

/// What a run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files that have variants (new or kept).
    pub files: u64,
    /// Their size, and the size of their brotli variants.
    pub bytes: u64,
    pub brotli_bytes: u64,
}

/// Writes the variants for every compressible file under `dir`, on all CPUs.
pub fn precompress(dir: &Path) -> Result<Summary> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    let queue = Mutex::new(files);
    let totals = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let Some(file) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop() else {
                        return;
                    };
                    match compress_one(&file) {
                        Ok(Some((size, br))) => {
                            totals[0].fetch_add(1, Ordering::Relaxed);
                            totals[1].fetch_add(size, Ordering::Relaxed);
                            totals[2].fetch_add(br, Ordering::Relaxed);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            failure
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    Ok(Summary {
        files: totals[0].load(Ordering::Relaxed),
        bytes: totals[1].load(Ordering::Relaxed),
        brotli_bytes: totals[2].load(Ordering::Relaxed),
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        let path = entry.path();
        if kind.is_dir() {
            collect(&path, out)?;
        } else if kind.is_file() && is_compressible(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn is_compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| COMPRESSIBLE.contains(&e.to_ascii_lowercase().as_str()))
}

/// Compresses `file` into its variants; `Some((size, brotli size))` when it has a
/// brotli variant now.
fn compress_one(file: &Path) -> Result<Option<(u64, u64)>> {
    let meta =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    let br_path = with_suffix(file, "br");
    let gz_path = with_suffix(file, "gz");
    if meta.len() < MIN_SIZE {
        // A variant left from when the file was larger must not outlive it.
        let _ = std::fs::remove_file(&br_path);
        let _ = std::fs::remove_file(&gz_path);
        return Ok(None);
    }
    let modified = meta.modified().ok();
    let fresh = |variant: &Path| -> Option<u64> {
        let m = std::fs::metadata(variant).ok()?;
        (m.modified().ok() >= modified).then_some(m.len())
    };
    let (have_br, have_gz) = (fresh(&br_path), fresh(&gz_path));
    let data = if have_br.is_none() || have_gz.is_none() {
        std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?
    } else {
        Vec::new()
    };
    let br_len = match have_br {
        Some(len) => Some(len),
        None => write_if_smaller(&br_path, &data, brotli(&data)?)?,
    };
    if have_gz.is_none() {
        write_if_smaller(&gz_path, &data, gzip(&data)?)?;
    }
    Ok(br_len.map(|br| (meta.len(), br)))
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Writes `compressed` at `path` when it saves at least a twentieth; otherwise removes
/// a variant left from an earlier build.
fn write_if_smaller(path: &Path, original: &[u8], compressed: Vec<u8>) -> Result<Option<u64>> {
    if compressed.len() as u64 * 20 > original.len() as u64 * 19 {
        let _ = std::fs::remove_file(path);
        return Ok(None);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let failed = || format!("cannot write {}", path.display());
    let mut tmp = tempfile::Builder::new()
        .prefix(".reflex-django-")
        .tempfile_in(dir)
        .with_context(failed)?;
    tmp.write_all(&compressed).with_context(failed)?;
    tmp.persist(path).map_err(|e| {
        Error::new(failed())
            .cause(e.error)
            .hint("check that the build directory is writable and the disk not full")
    })?;
    Ok(Some(compressed.len() as u64))
}

fn brotli(data: &[u8]) -> Result<Vec<u8>> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(data.len() / 3);
    brotli::BrotliCompress(&mut &data[..], &mut out, &params)
        .context("brotli compression failed")?;
    Ok(out)
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::best(),
    );
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .context("gzip compression failed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn writes_smaller_variants_and_keeps_fresh_ones() {
        let dir = tempfile::tempdir().unwrap();
        let text = "body { color: red; }\n".repeat(200);
        std::fs::create_dir(dir.path().join("css")).unwrap();
        std::fs::write(dir.path().join("css/site.css"), &text).unwrap();
        std::fs::write(dir.path().join("tiny.js"), "x").unwrap();
        std::fs::write(dir.path().join("photo.png"), vec![7u8; 4096]).unwrap();

        let summary = precompress(dir.path()).unwrap();
        assert_eq!(summary.files, 1);
        let br = std::fs::read(dir.path().join("css/site.css.br")).unwrap();
        let mut back = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text.as_bytes());
        let gz = std::fs::read(dir.path().join("css/site.css.gz")).unwrap();
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
        assert!(!dir.path().join("tiny.js.br").exists(), "too small");
        // A file that shrank below the threshold loses its old variants.
        std::fs::write(dir.path().join("tiny.js.br"), "stale").unwrap();
        precompress(dir.path()).unwrap();
        assert!(
            !dir.path().join("tiny.js.br").exists(),
            "a stale variant is kept"
        );
        assert!(
            !dir.path().join("photo.png.br").exists(),
            "not compressible"
        );

        // Kept when fresh: a second run rewrites nothing.
        let before = std::fs::metadata(dir.path().join("css/site.css.br"))
            .unwrap()
            .modified()
            .unwrap();
        precompress(dir.path()).unwrap();
        let after = std::fs::metadata(dir.path().join("css/site.css.br"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before, after);
    }

    #[test]
    fn incompressible_content_gets_no_variant() {
        let dir = tempfile::tempdir().unwrap();
        // Pseudo-random bytes do not compress.
        let mut x = 0x2545F4914F6CDD1Du64;
        let noise: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        std::fs::write(dir.path().join("data.json"), noise).unwrap();
        assert_eq!(precompress(dir.path()).unwrap().files, 0);
        assert!(!dir.path().join("data.json.br").exists());
    }
}
