# Sourced by scripts/bench.sh and scripts/bench-ab.sh: start_bench_dns WORKDIR
# starts a loopback DNS server (dnsmasq) answering for the load generator's
# sender domain, so the SPF/DMARC checks run for real without reaching the
# internet. It sets dns_pid (empty without dnsmasq) and dns_yaml, the
# configuration line that points stamp at it.
start_bench_dns() {
  local work=$1 dnsmasq dport
  dns_pid=""
  dns_yaml=""
  dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
  if [ ! -x "$dnsmasq" ]; then
    echo "$(basename "$0"): dnsmasq missing: SPF/DMARC lookups use the system resolver"
    return 0
  fi
  dport=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$dnsmasq" --no-daemon --port="$dport" --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
    --local=/example/ --local=/test/ \
    --txt-record=sender.example,"v=spf1 ip4:127.0.0.1 -all" --txt-record=_dmarc.sender.example,"v=DMARC1; p=none" \
    >"$work/dnsmasq.log" 2>&1 &
  dns_pid=$!
  dns_yaml="outbound: {dns_server: \"127.0.0.1:$dport\"}"
}
