//! The `lowbit` command-line tool.
fn main() {}
