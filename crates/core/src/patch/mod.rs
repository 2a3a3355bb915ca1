//! Strategic merge patch, JSON merge patch, JSON patch and server-side apply.
