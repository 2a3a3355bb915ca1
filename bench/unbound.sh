# Sourced by the DNS benchmarks: unbound serving a set of local-data records, one thread, the
# plain resolver twinstack's DNS server is compared with.

# install_dns_tools: dnsperf, unbound and dig from Debian, when missing.
install_dns_tools() {
  local need=()
  command -v dnsperf >/dev/null || need+=(dnsperf)
  command -v unbound >/dev/null || need+=(unbound)
  command -v dig >/dev/null || need+=(bind9-dnsutils)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# unbound_conf DIR PORT NAMES_CONF: writes DIR/unbound.conf serving NAMES_CONF on 127.0.0.1:PORT.
unbound_conf() {
  cat >"$1/unbound.conf" <<UNBOUND
server:
  interface: 127.0.0.1
  port: $2
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$1"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: 1
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  include: "$3"
remote-control:
  control-enable: no
UNBOUND
  unbound-checkconf "$1/unbound.conf" >/dev/null
}
