//! The frontends' HorizontalPodAutoscaler (autoscaling/v2), on average CPU utilization.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::Resource;

use super::{int32, metadata, names};
use crate::spec::{Site, Tier};

/// The autoscaler of a tier that has one (only frontends can).
pub fn horizontal_pod_autoscaler(site: &Site, tier: &Tier) -> Option<HorizontalPodAutoscaler> {
    let autoscaling = tier.autoscaling.as_ref()?;
    Some(HorizontalPodAutoscaler {
        metadata: metadata(site, Some(tier), names::statefulset(site, tier)),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some(StatefulSet::API_VERSION.to_owned()),
                kind: StatefulSet::KIND.to_owned(),
                name: names::statefulset(site, tier),
            },
            min_replicas: Some(int32(autoscaling.min_replicas)),
            max_replicas: int32(autoscaling.max_replicas),
            metrics: Some(vec![MetricSpec {
                type_: "Resource".to_owned(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".to_owned(),
                    target: MetricTarget {
                        type_: "Utilization".to_owned(),
                        average_utilization: Some(int32(autoscaling.target_cpu_utilization_percentage)),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    })
}
