use super::*;
use crate::test_support::{fixture, lower_text, render};

#[test]
fn lowers_host_config_config_and_mounts() {
    let (db, lowered) = lower_text(lower, "inspect.json", &fixture("inspect/containers.json"));
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered.containers));
}

#[test]
fn lowers_image_inspect_into_image_facts() {
    let (db, lowered) = lower_text(lower, "image.json", &fixture("inspect/image.json"));
    assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
    insta::assert_snapshot!(render(&db, &lowered.containers));
}

#[test]
fn reads_a_single_object_too() {
    let text =
        "{\"Id\": \"abc\", \"HostConfig\": {\"Privileged\": true}, \"Config\": {\"User\": \"\"}}";
    let (_, lowered) = lower_text(lower, "-", text);
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
        lower,
        "-",
        "[{\"Id\": \"abc\", \"HostConfig\": {\"Privileged\": tru",
    );
    assert!(lowered.containers.is_empty());
    assert!(lowered.errors.iter().all(|error| error.span.is_some()));
    assert!(!lowered.errors.is_empty());
}

#[test]
fn recognises_inspect_output_by_content() {
    assert!(looks_like_inspect(&fixture("inspect/containers.json")));
    assert!(looks_like_inspect(&fixture("inspect/image.json")));
    assert!(!looks_like_inspect(
        "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"
    ));
    assert!(!looks_like_inspect(
        "{\"name\": \"package\", \"version\": \"1.0.0\"}"
    ));
    assert!(!looks_like_inspect("HostConfig: {}\n"));
}
