//! Service CIDR range math and the allocator interface (filled in by the ipam work).
