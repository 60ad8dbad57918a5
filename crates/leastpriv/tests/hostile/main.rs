//! The hostile-input suite: the real `leastpriv` binary on inputs an attacker would write in a pull
//! request, each class of issue 9 in its own module, all generated here (no checked-in giants).
//!
//! Every case runs the binary as a CI job would (stdin, stdout and stderr are pipes; `RLIMIT_AS`
//! caps its memory through `prlimit`; a deadline kills a hang) in each of the four formats, and checks
//! (in [`harness::Outcome`]) the exit code, that it ended in time and within memory, that no planted
//! secret (a canary in its environment and in files outside the project) is in any output, and that
//! the finding hidden beside the hostile part is still reported.
//!
//! The time limit is a hang and blow-up guard (the quadratic cases took minutes), not a benchmark:
//! figures are in BENCHMARKS.md.
//!
//! Adding a class: a module with a function per case that builds a [`harness::Case`] and asserts on
//! its [`harness::Outcome`]s. The `images` and `secrets` classes of issue 9 belong here too.

#![allow(clippy::print_stderr)] // each case prints its time and memory for the record

mod harness;

mod aliases;
mod interpolation;
mod long_lines;
mod lost_inputs;
mod memory;
mod outside;
mod secrets;
mod special_files;
