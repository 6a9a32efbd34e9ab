//! Desired vs actual: the steps that make them agree. Pure.
