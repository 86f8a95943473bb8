//! `--help` is ours and lists only commands that work; hidden helpers stay hidden.

mod common;

#[test]
fn help_texts() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["run", "--help"][..],
        &["init", "--help"][..],
    ] {
        let out = common::reflex_django(dir.path())
            .args(args)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let name = args.join("_").replace("--", "");
        insta::assert_snapshot!(name, common::stdout(&out));
    }
}
