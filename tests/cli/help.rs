//! `--help` is ours and lists only commands that work; hidden helpers stay hidden.

#[test]
fn help_texts() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["run", "--help"][..],
        &["init", "--help"][..],
    ] {
        let out = crate::common::Test::new(dir.path())
            .args(args)
            .env("COLUMNS", "100")
            .run();
        let name = args.join("_").replace("--", "");
        insta::assert_snapshot!(name, out.stdout);
    }
}
