//! Layer `confinement`: seccomp, AppArmor, SELinux and the masked `/proc` paths.
//!
//! The runtime's defaults confine every container; the rules flag where a configuration turns them
//! off or replaces them with something weaker, and (for Kubernetes, whose default is unconfined)
//! where none is set.

pub(crate) mod apparmor_unconfined;
pub(crate) mod permissive_seccomp_profile;
pub(crate) mod proc_paths_unmasked;
pub(crate) mod seccomp_profile_unset;
pub(crate) mod seccomp_unconfined;
pub(crate) mod selinux_label_weakened;
