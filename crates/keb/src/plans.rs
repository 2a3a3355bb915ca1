//! KEB's service plans (internal/broker/plans.go) and what each one offers.

use twinstack_core::runtime::Provider;

/// The service KEB offers (`KymaServiceID`, `KymaServiceName`).
pub const KYMA_SERVICE_ID: &str = "47c9dcbf-ff30-448e-ab36-d3bad66ba281";
pub const KYMA_SERVICE_NAME: &str = "kymaruntime";

/// A plan of the `kymaruntime` service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Plan {
    #[serde(rename = "aws")]
    Aws,
    #[serde(rename = "gcp")]
    Gcp,
    #[serde(rename = "azure")]
    Azure,
    #[serde(rename = "azure_lite")]
    AzureLite,
    #[serde(rename = "sap-converged-cloud")]
    SapConvergedCloud,
    #[serde(rename = "trial")]
    Trial,
    #[serde(rename = "free")]
    Free,
    #[serde(rename = "preview")]
    Preview,
    #[serde(rename = "build-runtime-aws")]
    BuildRuntimeAws,
    #[serde(rename = "build-runtime-gcp")]
    BuildRuntimeGcp,
    #[serde(rename = "build-runtime-azure")]
    BuildRuntimeAzure,
    #[serde(rename = "alicloud")]
    Alicloud,
    #[serde(rename = "build-runtime-alicloud")]
    BuildRuntimeAlicloud,
    #[serde(rename = "gdch")]
    Gdch,
}

/// How a plan treats `parameters.networking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkingSupport {
    /// No `networking` in the schema (trial).
    None,
    /// `networking` on create; KEB's schema carries `dualStack` when the provider has the flag.
    Create,
}

pub const AWS_REGIONS: &[&str] = &[
    "eu-central-1",
    "eu-west-2",
    "ca-central-1",
    "sa-east-1",
    "us-east-1",
    "us-west-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
];
pub const GCP_REGIONS: &[&str] = &[
    "europe-west3",
    "asia-south1",
    "us-central1",
    "me-central2",
    "asia-northeast2",
    "me-west1",
    "southamerica-east1",
    "australia-southeast1",
    "asia-northeast1",
    "asia-southeast1",
    "us-west1",
    "us-east4",
    "europe-west4",
];
pub const AZURE_REGIONS: &[&str] = &[
    "eastus",
    "centralus",
    "westus2",
    "uksouth",
    "northeurope",
    "westeurope",
    "japaneast",
    "southeastasia",
    "australiaeast",
    "brazilsouth",
    "canadacentral",
];
/// `sap-converged-cloud` regions per platform region (`plansConfiguration`, KEB's
/// `cmd/broker/testdata/plans.yaml` / `internal/broker/testdata/plans.yaml`): no `default`, so
/// on any other platform region the plan is not in the catalog.
pub const SAP_CONVERGED_CLOUD_PLATFORM_REGIONS: &[(&str, &[&str])] = &[
    ("cf-eu20", &["eu-de-1"]),
    ("cf-ap10", &["ap-au-1"]),
    ("cf-us10", &["na-us-1"]),
    ("cf-jp10", &["ap-jp-1"]),
    ("cf-eu01", &["eu-de-2"]),
    ("cf-eu10", &["eu-de-2"]),
    ("cf-us20", &["na-us-2"]),
    ("cf-in30", &["ap-ae-1"]),
];
/// Every `sap-converged-cloud` region (the plan's regions when no platform region is given).
pub const SAP_CONVERGED_CLOUD_REGIONS: &[&str] = &[
    "eu-de-1", "eu-de-2", "ap-au-1", "na-us-1", "na-us-2", "ap-jp-1", "ap-ae-1",
];
/// `azure` regions on `cf-ch20` (EU access).
pub const AZURE_EU_ACCESS_PLATFORM_REGIONS: &[(&str, &[&str])] =
    &[("cf-ch20", &["switzerlandnorth"])];
/// `aws` regions on `cf-eu11` (EU access).
pub const AWS_EU_ACCESS_PLATFORM_REGIONS: &[(&str, &[&str])] = &[("cf-eu11", &["eu-central-1"])];
/// `gcp` regions on `cf-sa30` (KSA).
pub const GCP_KSA_PLATFORM_REGIONS: &[(&str, &[&str])] = &[("cf-sa30", &["me-central2"])];
pub const ALICLOUD_REGIONS: &[&str] = &["ap-southeast-1", "eu-central-1", "eu-west-1"];
pub const GDCH_REGIONS: &[&str] = &["us-west16"];
/// Trial takes a region *group*, checked after the schema (`invalid region specified in request for trial`).
pub const TRIAL_REGIONS: &[&str] = &["europe", "us", "asia"];

pub const AWS_MACHINES: &[(&str, &str)] = &[
    ("m6i.large", "m6i.large (2vCPU, 8GB RAM)"),
    ("m6i.xlarge", "m6i.xlarge (4vCPU, 16GB RAM)"),
    ("m6i.2xlarge", "m6i.2xlarge (8vCPU, 32GB RAM)"),
    ("m6i.4xlarge", "m6i.4xlarge (16vCPU, 64GB RAM)"),
    ("m6i.8xlarge", "m6i.8xlarge (32vCPU, 128GB RAM)"),
    ("m6i.12xlarge", "m6i.12xlarge (48vCPU, 192GB RAM)"),
    ("m6i.16xlarge", "m6i.16xlarge (64vCPU, 256GB RAM)"),
    ("m5.large", "m5.large (2vCPU, 8GB RAM)"),
    ("m5.xlarge", "m5.xlarge (4vCPU, 16GB RAM)"),
    ("m5.2xlarge", "m5.2xlarge (8vCPU, 32GB RAM)"),
    ("m5.4xlarge", "m5.4xlarge (16vCPU, 64GB RAM)"),
    ("m5.8xlarge", "m5.8xlarge (32vCPU, 128GB RAM)"),
    ("m5.12xlarge", "m5.12xlarge (48vCPU, 192GB RAM)"),
    ("m5.16xlarge", "m5.16xlarge (64vCPU, 256GB RAM)"),
];
pub const GCP_MACHINES: &[(&str, &str)] = &[
    ("n2-standard-2", "n2-standard-2 (2vCPU, 8GB RAM)"),
    ("n2-standard-4", "n2-standard-4 (4vCPU, 16GB RAM)"),
    ("n2-standard-8", "n2-standard-8 (8vCPU, 32GB RAM)"),
    ("n2-standard-16", "n2-standard-16 (16vCPU, 64GB RAM)"),
    ("n2-standard-32", "n2-standard-32 (32vCPU, 128GB RAM)"),
    ("n2-standard-48", "n2-standard-48 (48vCPU, 192GB RAM)"),
    ("n2-standard-64", "n2-standard-64 (64vCPU, 256GB RAM)"),
];
pub const AZURE_MACHINES: &[(&str, &str)] = &[
    ("Standard_D2s_v5", "Standard_D2s_v5 (2vCPU, 8GB RAM)"),
    ("Standard_D4s_v5", "Standard_D4s_v5 (4vCPU, 16GB RAM)"),
    ("Standard_D8s_v5", "Standard_D8s_v5 (8vCPU, 32GB RAM)"),
    ("Standard_D16s_v5", "Standard_D16s_v5 (16vCPU, 64GB RAM)"),
    ("Standard_D32s_v5", "Standard_D32s_v5 (32vCPU, 128GB RAM)"),
    ("Standard_D48s_v5", "Standard_D48s_v5 (48vCPU, 192GB RAM)"),
    ("Standard_D64s_v5", "Standard_D64s_v5 (64vCPU, 256GB RAM)"),
    ("Standard_D4_v3", "Standard_D4_v3 (4vCPU, 16GB RAM)"),
    ("Standard_D8_v3", "Standard_D8_v3 (8vCPU, 32GB RAM)"),
    ("Standard_D16_v3", "Standard_D16_v3 (16vCPU, 64GB RAM)"),
    ("Standard_D32_v3", "Standard_D32_v3 (32vCPU, 128GB RAM)"),
    ("Standard_D48_v3", "Standard_D48_v3 (48vCPU, 192GB RAM)"),
    ("Standard_D64_v3", "Standard_D64_v3 (64vCPU, 256GB RAM)"),
];
/// Machines only for `additionalWorkerNodePools` (`additionalMachines` of the plan).
pub const AWS_ADDITIONAL_MACHINES: &[(&str, &str)] = &[
    ("c7i.large", "c7i.large (2vCPU, 4GB RAM)"),
    ("c7i.xlarge", "c7i.xlarge (4vCPU, 8GB RAM)"),
    ("c7i.2xlarge", "c7i.2xlarge (8vCPU, 16GB RAM)"),
    ("c7i.4xlarge", "c7i.4xlarge (16vCPU, 32GB RAM)"),
    ("c7i.8xlarge", "c7i.8xlarge (32vCPU, 64GB RAM)"),
    ("c7i.12xlarge", "c7i.12xlarge (48vCPU, 96GB RAM)"),
    ("c7i.16xlarge", "c7i.16xlarge (64vCPU, 128GB RAM)"),
    ("g6.xlarge", "g6.xlarge (1GPU, 4vCPU, 16GB RAM)*"),
    ("g6.2xlarge", "g6.2xlarge (1GPU, 8vCPU, 32GB RAM)*"),
    ("g6.4xlarge", "g6.4xlarge (1GPU, 16vCPU, 64GB RAM)*"),
    ("g6.8xlarge", "g6.8xlarge (1GPU, 32vCPU, 128GB RAM)*"),
    ("g6.12xlarge", "g6.12xlarge (4GPU, 48vCPU, 192GB RAM)*"),
    ("g6.16xlarge", "g6.16xlarge (1GPU, 64vCPU, 256GB RAM)*"),
    ("g4dn.xlarge", "g4dn.xlarge (1GPU, 4vCPU, 16GB RAM)*"),
    ("g4dn.2xlarge", "g4dn.2xlarge (1GPU, 8vCPU, 32GB RAM)*"),
    ("g4dn.4xlarge", "g4dn.4xlarge (1GPU, 16vCPU, 64GB RAM)*"),
    ("g4dn.8xlarge", "g4dn.8xlarge (1GPU, 32vCPU, 128GB RAM)*"),
    ("g4dn.12xlarge", "g4dn.12xlarge (4GPU, 48vCPU, 192GB RAM)*"),
    ("g4dn.16xlarge", "g4dn.16xlarge (1GPU, 64vCPU, 256GB RAM)*"),
];
pub const GCP_ADDITIONAL_MACHINES: &[(&str, &str)] = &[
    ("c2d-highcpu-2", "c2d-highcpu-2 (2vCPU, 4GB RAM)"),
    ("c2d-highcpu-4", "c2d-highcpu-4 (4vCPU, 8GB RAM)"),
    ("c2d-highcpu-8", "c2d-highcpu-8 (8vCPU, 16GB RAM)"),
    ("c2d-highcpu-16", "c2d-highcpu-16 (16vCPU, 32GB RAM)"),
    ("c2d-highcpu-32", "c2d-highcpu-32 (32vCPU, 64GB RAM)"),
    ("c2d-highcpu-56", "c2d-highcpu-56 (56vCPU, 112GB RAM)"),
    ("g2-standard-4", "g2-standard-4 (1GPU, 4vCPU, 16GB RAM)*"),
    ("g2-standard-8", "g2-standard-8 (1GPU, 8vCPU, 32GB RAM)*"),
    ("g2-standard-12", "g2-standard-12 (1GPU, 12vCPU, 48GB RAM)*"),
    ("g2-standard-16", "g2-standard-16 (1GPU, 16vCPU, 64GB RAM)*"),
    ("g2-standard-24", "g2-standard-24 (2GPU, 24vCPU, 96GB RAM)*"),
    (
        "g2-standard-32",
        "g2-standard-32 (1GPU, 32vCPU, 128GB RAM)*",
    ),
    (
        "g2-standard-48",
        "g2-standard-48 (4GPU, 48vCPU, 192GB RAM)*",
    ),
];
pub const AZURE_ADDITIONAL_MACHINES: &[(&str, &str)] = &[
    ("Standard_F2s_v2", "Standard_F2s_v2 (2vCPU, 4GB RAM)"),
    ("Standard_F4s_v2", "Standard_F4s_v2 (4vCPU, 8GB RAM)"),
    ("Standard_F8s_v2", "Standard_F8s_v2 (8vCPU, 16GB RAM)"),
    ("Standard_F16s_v2", "Standard_F16s_v2 (16vCPU, 32GB RAM)"),
    ("Standard_F32s_v2", "Standard_F32s_v2 (32vCPU, 64GB RAM)"),
    ("Standard_F48s_v2", "Standard_F48s_v2 (48vCPU, 96GB RAM)"),
    ("Standard_F64s_v2", "Standard_F64s_v2 (64vCPU, 128GB RAM)"),
    (
        "Standard_NC4as_T4_v3",
        "Standard_NC4as_T4_v3 (1GPU, 4vCPU, 28GB RAM)*",
    ),
    (
        "Standard_NC8as_T4_v3",
        "Standard_NC8as_T4_v3 (1GPU, 8vCPU, 56GB RAM)*",
    ),
    (
        "Standard_NC16as_T4_v3",
        "Standard_NC16as_T4_v3 (1GPU, 16vCPU, 110GB RAM)*",
    ),
    (
        "Standard_NC64as_T4_v3",
        "Standard_NC64as_T4_v3 (4GPU, 64vCPU, 440GB RAM)*",
    ),
];
pub const ALICLOUD_MACHINES: &[(&str, &str)] = &[
    ("ecs.g9i.large", "ecs.g9i.large (2vCPU, 8GB RAM)"),
    ("ecs.g9i.xlarge", "ecs.g9i.xlarge (4vCPU, 16GB RAM)"),
    ("ecs.g9i.2xlarge", "ecs.g9i.2xlarge (8vCPU, 32GB RAM)"),
    ("ecs.g9i.4xlarge", "ecs.g9i.4xlarge (16vCPU, 64GB RAM)"),
    ("ecs.g9i.8xlarge", "ecs.g9i.8xlarge (32vCPU, 128GB RAM)"),
    ("ecs.g9i.12xlarge", "ecs.g9i.12xlarge (48vCPU, 192GB RAM)"),
    ("ecs.g9i.16xlarge", "ecs.g9i.16xlarge (64vCPU, 256GB RAM)"),
];
pub const GDCH_MACHINES: &[(&str, &str)] = &[
    ("n3-standard-2-gdc", "n3-standard-2-gdc (2vCPU, 8GB RAM)"),
    ("n3-standard-4-gdc", "n3-standard-4-gdc (4vCPU, 16GB RAM)"),
    ("n3-standard-8-gdc", "n3-standard-8-gdc (8vCPU, 32GB RAM)"),
    (
        "n3-standard-16-gdc",
        "n3-standard-16-gdc (16vCPU, 64GB RAM)",
    ),
    (
        "n3-standard-32-gdc",
        "n3-standard-32-gdc (32vCPU, 128GB RAM)",
    ),
    (
        "n3-standard-64-gdc",
        "n3-standard-64-gdc (64vCPU, 256GB RAM)",
    ),
];
/// `AzureLiteMachinesNames()` without `Standard_D2s_v5` (`useSmallerMachineTypes` off).
pub const AZURE_LITE_MACHINES: &[(&str, &str)] = &[
    ("Standard_D4s_v5", "Standard_D4s_v5 (4vCPU, 16GB RAM)"),
    ("Standard_D4_v3", "Standard_D4_v3 (4vCPU, 16GB RAM)"),
];
pub const SAP_CONVERGED_CLOUD_MACHINES: &[(&str, &str)] = &[
    ("g_c2_m8", "g_c2_m8 (2vCPU, 8GB RAM)"),
    ("g_c4_m16", "g_c4_m16 (4vCPU, 16GB RAM)"),
    ("g_c6_m24", "g_c6_m24 (6vCPU, 24GB RAM)"),
    ("g_c8_m32", "g_c8_m32 (8vCPU, 32GB RAM)"),
    ("g_c12_m48", "g_c12_m48 (12vCPU, 48GB RAM)"),
    ("g_c16_m64", "g_c16_m64 (16vCPU, 64GB RAM)"),
    ("g_c32_m128", "g_c32_m128 (32vCPU, 128GB RAM)"),
    ("g_c64_m256", "g_c64_m256 (64vCPU, 256GB RAM)"),
];

/// Auto-scaler bounds of a plan: schema `minimum`/`maximum` and the plan defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoScaler {
    pub minimum: u32,
    pub maximum: u32,
    pub default_min: u32,
    pub default_max: u32,
}

/// Static facts of one plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanInfo {
    pub plan: Plan,
    pub id: &'static str,
    pub name: &'static str,
    /// Catalog `metadata.displayName` and `description`: KEB's defaults without a plans
    /// configuration (`strings.ToTitle(planName)`).
    pub display_name: &'static str,
    pub description: &'static str,
    /// Provider of the plan; `free` and `trial` follow the platform ([`PlanInfo::provider_on`]).
    pub provider: Provider,
    pub regions: &'static [&'static str],
    /// Regions per platform region (`plansConfiguration.<plan>.regions.<platform region>`),
    /// tried before [`PlanInfo::regions`]; see [`PlanInfo::regions_for`].
    pub platform_regions: &'static [(&'static str, &'static [&'static str])],
    /// `(machine type, display name)`; empty when the plan has no `machineType` parameter.
    pub machine_types: &'static [(&'static str, &'static str)],
    /// `additionalMachines`: accepted only in `additionalWorkerNodePools` (after the regular ones).
    pub additional_machine_types: &'static [(&'static str, &'static str)],
    /// `colocateControlPlane` in the schema (`NewProvisioningProperties`; off for free, trial
    /// and plans with `disableColocateControlPlane`, gdch).
    pub colocate_control_plane: bool,
    pub default_machine_type: Option<&'static str>,
    pub auto_scaler: Option<AutoScaler>,
    pub networking: NetworkingSupport,
    /// Worker zones KEB provisions (3 for HA plans, 1 otherwise).
    pub zones: usize,
    /// `bindable` in the catalog when binding is enabled: KEB's default
    /// `broker.binding.bindablePlans: "aws"`.
    pub bindable: bool,
}

const HA: AutoScaler = AutoScaler {
    minimum: 3,
    maximum: 300,
    default_min: 3,
    default_max: 20,
};

pub const PLANS: &[PlanInfo] = &[
    PlanInfo {
        plan: Plan::Aws,
        id: "361c511f-f939-4621-b228-d0fb79a1fe15",
        name: "aws",
        display_name: "AWS",
        description: "AWS",
        provider: Provider::Aws,
        regions: AWS_REGIONS,
        platform_regions: AWS_EU_ACCESS_PLATFORM_REGIONS,
        machine_types: AWS_MACHINES,
        additional_machine_types: AWS_ADDITIONAL_MACHINES,
        default_machine_type: Some("m6i.large"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: true,
    },
    PlanInfo {
        plan: Plan::Gcp,
        id: "ca6e5357-707f-4565-bbbd-b3ab732597c6",
        name: "gcp",
        display_name: "GCP",
        description: "GCP",
        provider: Provider::Gcp,
        regions: GCP_REGIONS,
        platform_regions: GCP_KSA_PLATFORM_REGIONS,
        machine_types: GCP_MACHINES,
        additional_machine_types: GCP_ADDITIONAL_MACHINES,
        default_machine_type: Some("n2-standard-2"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::Azure,
        id: "4deee563-e5ec-4731-b9b1-53b42d855f0c",
        name: "azure",
        display_name: "Azure",
        description: "Azure",
        provider: Provider::Azure,
        regions: AZURE_REGIONS,
        platform_regions: AZURE_EU_ACCESS_PLATFORM_REGIONS,
        machine_types: AZURE_MACHINES,
        additional_machine_types: AZURE_ADDITIONAL_MACHINES,
        default_machine_type: Some("Standard_D2s_v5"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::AzureLite,
        id: "8cb22518-aa26-44c5-91a0-e669ec9bf443",
        name: "azure_lite",
        display_name: "Azure Lite",
        description: "Azure Lite",
        provider: Provider::Azure,
        regions: AZURE_REGIONS,
        platform_regions: AZURE_EU_ACCESS_PLATFORM_REGIONS,
        machine_types: AZURE_LITE_MACHINES,
        additional_machine_types: &[],
        default_machine_type: Some("Standard_D4s_v5"),
        colocate_control_plane: true,
        auto_scaler: Some(AutoScaler {
            minimum: 2,
            maximum: 40,
            default_min: 2,
            default_max: 10,
        }),
        networking: NetworkingSupport::Create,
        zones: 1,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::SapConvergedCloud,
        id: "03b812ac-c991-4528-b5bd-08b303523a63",
        name: "sap-converged-cloud",
        display_name: "SAP Converged Cloud",
        description: "SAP Converged Cloud",
        provider: Provider::Openstack,
        regions: SAP_CONVERGED_CLOUD_REGIONS,
        platform_regions: SAP_CONVERGED_CLOUD_PLATFORM_REGIONS,
        machine_types: SAP_CONVERGED_CLOUD_MACHINES,
        additional_machine_types: &[],
        default_machine_type: Some("g_c2_m8"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::Trial,
        id: "7d55d31d-35ae-4438-bf13-6ffdfa107d9f",
        name: "trial",
        display_name: "Trial",
        description: "Trial",
        provider: Provider::Aws,
        regions: TRIAL_REGIONS,
        platform_regions: &[],
        machine_types: &[],
        additional_machine_types: &[],
        default_machine_type: None,
        colocate_control_plane: false,
        auto_scaler: None,
        networking: NetworkingSupport::None,
        zones: 1,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::Free,
        id: "b1a5764e-2ea1-4f95-94c0-2b4538b37b55",
        name: "free",
        display_name: "Free",
        description: "Free",
        provider: Provider::Aws,
        regions: AWS_REGIONS,
        platform_regions: &[],
        machine_types: &[],
        additional_machine_types: &[],
        default_machine_type: None,
        colocate_control_plane: false,
        auto_scaler: None,
        networking: NetworkingSupport::Create,
        zones: 1,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::Preview,
        id: "5cb3d976-b85c-42ea-a636-79cadda109a9",
        name: "preview",
        display_name: "PREVIEW",
        description: "PREVIEW",
        provider: Provider::Aws,
        regions: AWS_REGIONS,
        platform_regions: AWS_EU_ACCESS_PLATFORM_REGIONS,
        machine_types: AWS_MACHINES,
        additional_machine_types: AWS_ADDITIONAL_MACHINES,
        default_machine_type: Some("m6i.large"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::BuildRuntimeAws,
        id: "6aae0ff3-89f7-4f12-86de-51466145422e",
        name: "build-runtime-aws",
        display_name: "BUILD-RUNTIME-AWS",
        description: "BUILD-RUNTIME-AWS",
        provider: Provider::Aws,
        regions: AWS_REGIONS,
        platform_regions: AWS_EU_ACCESS_PLATFORM_REGIONS,
        machine_types: AWS_MACHINES,
        additional_machine_types: AWS_ADDITIONAL_MACHINES,
        default_machine_type: Some("m6i.large"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::BuildRuntimeGcp,
        id: "a310cd6b-6452-45a0-935d-d24ab53f9eba",
        name: "build-runtime-gcp",
        display_name: "BUILD-RUNTIME-GCP",
        description: "BUILD-RUNTIME-GCP",
        provider: Provider::Gcp,
        regions: GCP_REGIONS,
        platform_regions: GCP_KSA_PLATFORM_REGIONS,
        machine_types: GCP_MACHINES,
        additional_machine_types: GCP_ADDITIONAL_MACHINES,
        default_machine_type: Some("n2-standard-2"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::BuildRuntimeAzure,
        id: "499244b4-1bef-48c9-be68-495269899f8e",
        name: "build-runtime-azure",
        display_name: "BUILD-RUNTIME-AZURE",
        description: "BUILD-RUNTIME-AZURE",
        provider: Provider::Azure,
        regions: AZURE_REGIONS,
        platform_regions: AZURE_EU_ACCESS_PLATFORM_REGIONS,
        machine_types: AZURE_MACHINES,
        additional_machine_types: AZURE_ADDITIONAL_MACHINES,
        default_machine_type: Some("Standard_D2s_v5"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::Alicloud,
        id: "9f2c3b4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        name: "alicloud",
        display_name: "Alicloud",
        description: "Alicloud",
        provider: Provider::Alicloud,
        regions: ALICLOUD_REGIONS,
        platform_regions: &[],
        machine_types: ALICLOUD_MACHINES,
        additional_machine_types: &[],
        default_machine_type: Some("ecs.g9i.large"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::BuildRuntimeAlicloud,
        id: "72efa867-7b54-4d59-8df7-68f4759ff271",
        name: "build-runtime-alicloud",
        display_name: "BUILD-RUNTIME-ALICLOUD",
        description: "BUILD-RUNTIME-ALICLOUD",
        provider: Provider::Alicloud,
        regions: ALICLOUD_REGIONS,
        platform_regions: &[],
        machine_types: ALICLOUD_MACHINES,
        additional_machine_types: &[],
        default_machine_type: Some("ecs.g9i.large"),
        colocate_control_plane: true,
        auto_scaler: Some(HA),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
    PlanInfo {
        plan: Plan::Gdch,
        id: "024e11fb-40df-4753-a992-24d136e2d15c",
        name: "gdch",
        display_name: "GDCH",
        description: "GDCH",
        provider: Provider::Gdch,
        regions: GDCH_REGIONS,
        platform_regions: &[],
        machine_types: GDCH_MACHINES,
        additional_machine_types: &[],
        default_machine_type: Some("n3-standard-2-gdc"),
        // `disableColocateControlPlane: true`
        colocate_control_plane: false,
        // `GDCHInputProvider`: DefaultAutoScalerMin 3, DefaultAutoScalerMax 10 (the schema
        // still shows the HA defaults 3/20).
        auto_scaler: Some(AutoScaler {
            minimum: 3,
            maximum: 300,
            default_min: 3,
            default_max: 10,
        }),
        networking: NetworkingSupport::Create,
        zones: 3,
        bindable: false,
    },
];

impl Plan {
    pub fn info(self) -> &'static PlanInfo {
        PLANS
            .iter()
            .find(|p| p.plan == self)
            .expect("every plan is in PLANS")
    }
    pub fn id(self) -> &'static str {
        self.info().id
    }
    pub fn name(self) -> &'static str {
        self.info().name
    }
    /// The plan's provider on the default platform (AWS for `free` and `trial`).
    pub fn provider(self) -> Provider {
        self.info().provider
    }
}

impl PlanInfo {
    /// The provider on a given platform: `free` runs on the platform's provider (AWS or Azure),
    /// `trial` on the configured trial provider; the others are fixed.
    pub fn provider_on(&self, platform: Provider) -> Provider {
        match self.plan {
            Plan::Free | Plan::Trial => match platform {
                Provider::Azure => Provider::Azure,
                _ => Provider::Aws,
            },
            _ => self.provider,
        }
    }
    /// Regions offered on a platform (`free` on Azure offers Azure regions), without a
    /// platform region (all of the plan's regions).
    pub fn regions_on(&self, platform: Provider) -> &'static [&'static str] {
        self.regions_for(platform, None)
    }
    /// `PlanSpecifications.Regions(plan, platformRegion)` (internal/provider/configuration/plan.go):
    /// the platform region's entry, else `default`. `free` takes the `aws` or `azure` plan's
    /// regions (`SchemaService.FreeSchema`). `sap-converged-cloud` has no `default`: on an
    /// unlisted platform region it offers nothing and is left out of the catalog. `None` = no
    /// platform region known: every region of the plan (twinstack).
    pub fn regions_for(
        &self,
        platform: Provider,
        platform_region: Option<&str>,
    ) -> &'static [&'static str] {
        let info = match (self.plan, self.provider_on(platform)) {
            (Plan::Free, Provider::Azure) => Plan::Azure.info(),
            (Plan::Free, _) => Plan::Aws.info(),
            _ => self,
        };
        let Some(pr) = platform_region else {
            return info.regions;
        };
        match info.platform_regions.iter().find(|(k, _)| *k == pr) {
            Some((_, r)) => r,
            None if info.plan == Plan::SapConvergedCloud => &[],
            None => info.regions,
        }
    }
    /// Whether `SchemaService.Plans` offers the plan on this platform (a plan without regions
    /// is left out of the catalog; trial is always offered).
    pub fn offered_on(&self, platform: Provider, platform_region: Option<&str>) -> bool {
        self.plan == Plan::Trial || !self.regions_for(platform, platform_region).is_empty()
    }
    /// Regular and additional machines: what `additionalWorkerNodePools[].machineType` accepts.
    pub fn worker_pool_machine_types(&self) -> Vec<(&'static str, &'static str)> {
        self.machine_types
            .iter()
            .chain(self.additional_machine_types)
            .copied()
            .collect()
    }
}

/// Plan by KEB plan ID.
pub fn plan_by_id(id: &str) -> Option<&'static PlanInfo> {
    PLANS.iter().find(|p| p.id == id)
}

/// Plan by KEB plan name (`aws`, `azure_lite`, `sap-converged-cloud`, ...).
pub fn plan_by_name(name: &str) -> Option<&'static PlanInfo> {
    PLANS.iter().find(|p| p.name == name)
}
