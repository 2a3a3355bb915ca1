//! The cloud APIs the CLIs call, read-only, over a runtime's inventory: the ELBv2 and EC2 Query
//! APIs (`aws elbv2 ...`, `aws ec2 ...`), with Signature Version 4 checked, and the Compute
//! Engine REST resources `gcloud compute` reads.
