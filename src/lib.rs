//! ignition-krm: a KRM function that expands an `IgnitionCluster` spec into the Kubernetes manifests
//! of an Ignition SCADA site, failover or scaleout.
//!
//! Data flows one way: bytes → [`krm::ResourceList`] → [`spec::Site`] (defaulted, validated) →
//! objects ([`generate`]) → ResourceList → bytes.

#![forbid(unsafe_code)]

pub mod block_yaml;
pub mod cli;
pub mod function;
pub mod generate;
pub mod krm;
pub mod render;
pub mod spec;
pub mod yaml;
