//! ignition-krm: a KRM function that expands an `IgnitionCluster` spec into the Kubernetes manifests
//! of an Ignition SCADA site, failover or scaleout.
//!
//! Data flows one way: bytes → [`krm::ResourceList`] → [`spec::Site`] (defaulted, validated) →
//! objects ([`generate`]) → ResourceList → bytes.

#![forbid(unsafe_code)]

pub mod argocd;
pub mod block_yaml;
pub mod cli;
pub mod commands;
pub mod core_tags;
pub mod error;
pub mod fleet;
pub mod function;
pub mod generate;
pub mod io;
pub mod krm;
pub mod object_id;
pub mod render;
pub mod spec;
pub mod tree;
pub mod yaml;
