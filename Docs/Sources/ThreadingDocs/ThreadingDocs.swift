// Empty on purpose: this target only makes the `Threading` module a dependency of the docs
// package, so that swift-docc-plugin can document it (`--target Threading`).
