//! The README's configuration reference covers every setting.

#[test]
fn readme_lists_every_setting_and_its_environment_variable() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (var, path) in reflex_django::config::env_vars() {
        assert!(
            readme.contains(&var),
            "README does not mention {var} ({path})"
        );
        let key = path.rsplit('.').next().unwrap();
        assert!(
            readme.contains(&format!("{key}:")),
            "README does not show the key {path}"
        );
    }
}
