//! The leader's loop: placement, self-healing and service registration.
