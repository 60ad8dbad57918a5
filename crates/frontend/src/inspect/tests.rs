use super::*;
use crate::test_support::render;

fn lower_text(path: &str, text: &str) -> (SourceDb, Lowered) {
    let db = SourceDb::new();
    let file = db.add(path, text);
    let lowered = lower(&db, file, &Options::default());
    (db, lowered)
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/inspect/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn lowers_host_config_config_and_mounts() {
    let (db, lowered) = lower_text("inspect.json", &fixture("containers.json"));
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered.containers));
}

#[test]
fn lowers_image_inspect_into_image_facts() {
    let (db, lowered) = lower_text("image.json", &fixture("image.json"));
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered.containers));
}

#[test]
fn reads_a_single_object_too() {
    let text =
        "{\"Id\": \"abc\", \"HostConfig\": {\"Privileged\": true}, \"Config\": {\"User\": \"\"}}";
    let (_, lowered) = lower_text("-", text);
    let runtime = lowered.containers[0].runtime.as_ref().unwrap();
    assert_eq!(runtime.privileged.as_ref().map(|p| p.value), Some(true));
    assert_eq!(
        runtime.user.as_ref().map(|u| u.value.is_root()),
        Some(leastpriv_model::Certainty::Yes)
    );
}

#[test]
fn broken_json_is_a_located_error() {
    let (_, lowered) = lower_text(
        "-",
        "[{\"Id\": \"abc\", \"HostConfig\": {\"Privileged\": tru",
    );
    assert!(lowered.containers.is_empty());
    assert!(lowered.errors.iter().all(|error| error.span.is_some()));
    assert!(!lowered.errors.is_empty());
}

#[test]
fn recognises_inspect_output_by_content() {
    assert!(looks_like_inspect(&fixture("containers.json")));
    assert!(looks_like_inspect(&fixture("image.json")));
    assert!(!looks_like_inspect(
        "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"
    ));
    assert!(!looks_like_inspect(
        "{\"name\": \"package\", \"version\": \"1.0.0\"}"
    ));
    assert!(!looks_like_inspect("HostConfig: {}\n"));
}
