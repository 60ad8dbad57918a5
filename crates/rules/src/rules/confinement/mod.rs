//! Layer `confinement`.
