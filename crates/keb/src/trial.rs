//! The trial plan's own rules: region groups, the cloud region a trial runs in, and "one trial
//! per global account" (internal/broker/instance_create.go `validateTrialPlanConstraints`,
//! internal/provider/{aws,azure}.go `*TrialInputProvider.region`, `trialRegionsMapping` of
//! resources/keb/values.yaml).

use crate::error::OsbError;
use crate::plans::Plan;
use crate::KebOptions;
use twinstack_core::runtime::Provider;

/// `validRegionsForTrial` (internal/broker/plans.go).
pub const TRIAL_REGION_GROUPS: &[&str] = &["europe", "us", "asia"];

/// KEB's default `trialRegionsMapping`: platform region → region group.
pub const TRIAL_REGIONS_MAPPING: &[(&str, &str)] = &[
    ("cf-eu10", "europe"),
    ("cf-us10", "us"),
    ("cf-ap21", "asia"),
];

/// `euaccess.IsEURestrictedAccess` (internal/euaccess/eu_access.go).
pub fn is_eu_restricted_access(platform_region: &str) -> bool {
    matches!(
        platform_region,
        "cf-ch20" | "cf-eu11" | "cf-eu01" | "cf-eu02"
    )
}

/// `validateTrialPlanConstraints`, first half: a non-empty `region` must be a region group.
pub const INVALID_TRIAL_REGION: &str = "invalid region specified in request for trial";

/// `validateTrialPlanConstraints`, second half.
pub const SINGLE_TRIAL_MESSAGE: &str =
    "trial Kyma was created for the global account, but there is only one allowed";

/// "One trial per global account". KEB asks the store for
/// `GetNumberOfInstancesForGlobalAccountID`, which counts *every* non-deleted instance of the
/// global account, whatever its plan: a global account with an `aws` runtime cannot get a trial
/// either. The broker does that count and passes it here. 400 (wrapped by `Provision`).
pub fn check_single_trial(
    plan: Plan,
    instances_in_global_account: usize,
    opts: &KebOptions,
) -> Result<(), OsbError> {
    if plan == Plan::Trial && opts.only_single_trial_per_ga && instances_in_global_account > 0 {
        return Err(OsbError::bad_request(SINGLE_TRIAL_MESSAGE));
    }
    Ok(())
}

/// The cloud region of a trial runtime (`AWSTrialInputProvider.region`,
/// `AzureTrialInputProvider.region`): EU-access platform regions first, then the platform
/// region's group (`trialRegionsMapping`), then the requested group, then the default
/// (`eu-west-1` on AWS, `eastus` on Azure).
pub fn trial_region(
    provider: Provider,
    platform_region: Option<&str>,
    requested_group: Option<&str>,
) -> &'static str {
    let specific = |group: &str| -> Option<&'static str> {
        match (provider, group) {
            (Provider::Azure, "europe") => Some("westeurope"),
            (Provider::Azure, "us") => Some("eastus"),
            (Provider::Azure, "asia") => Some("southeastasia"),
            (_, "europe") => Some("eu-west-1"),
            (_, "us") => Some("us-east-1"),
            (_, "asia") => Some("ap-southeast-1"),
            _ => None,
        }
    };
    if let Some(pr) = platform_region {
        if is_eu_restricted_access(pr) {
            return match provider {
                Provider::Azure => "switzerlandnorth",
                _ => "eu-central-1",
            };
        }
        if let Some((_, group)) = TRIAL_REGIONS_MAPPING.iter().find(|(k, _)| *k == pr) {
            if let Some(r) = specific(group) {
                return r;
            }
        }
    }
    if let Some(r) = requested_group.filter(|g| !g.is_empty()).and_then(specific) {
        return r;
    }
    match provider {
        Provider::Azure => "eastus",
        _ => "eu-west-1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_trial_per_global_account() {
        let o = KebOptions::default();
        let e = check_single_trial(Plan::Trial, 1, &o).unwrap_err();
        assert_eq!(
            (e.status, e.description.as_str()),
            (400, SINGLE_TRIAL_MESSAGE)
        );
        assert!(check_single_trial(Plan::Trial, 0, &o).is_ok());
        assert!(check_single_trial(Plan::Aws, 3, &o).is_ok());
        let off = KebOptions {
            only_single_trial_per_ga: false,
            ..KebOptions::default()
        };
        assert!(check_single_trial(Plan::Trial, 1, &off).is_ok());
    }

    #[test]
    fn trial_region_mapping() {
        use Provider::*;
        let cases: &[(Provider, Option<&str>, Option<&str>, &str)] = &[
            (Aws, None, None, "eu-west-1"),
            (Aws, None, Some("europe"), "eu-west-1"),
            (Aws, None, Some("us"), "us-east-1"),
            (Aws, None, Some("asia"), "ap-southeast-1"),
            (Aws, Some("cf-us10"), Some("europe"), "us-east-1"),
            (Aws, Some("cf-ap21"), None, "ap-southeast-1"),
            (Aws, Some("cf-eu11"), Some("us"), "eu-central-1"),
            (Aws, Some("cf-jp10"), Some("asia"), "ap-southeast-1"),
            (Azure, None, None, "eastus"),
            (Azure, Some("cf-eu10"), None, "westeurope"),
            (Azure, Some("cf-ch20"), None, "switzerlandnorth"),
        ];
        for (p, pr, g, want) in cases {
            assert_eq!(trial_region(*p, *pr, *g), *want, "{p:?} {pr:?} {g:?}");
        }
    }
}
