//! Embeds the templates of `init` (`templates/project/`) and `deploy`
//! (`templates/deploy/`) in the binary. Every `*.j2` file is taken, so a new template
//! cannot be forgotten; cargo runs this again when a file there is edited, added or
//! removed.
fn main() {
    minijinja_embed::embed_templates!("templates/project", &[".j2"][..], "project");
    minijinja_embed::embed_templates!("templates/deploy", &[".j2"][..], "deploy");
}
