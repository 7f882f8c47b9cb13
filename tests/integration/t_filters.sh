#!/bin/bash
# interface_ip_filter and the tcpdump-syntax `filter` with -r, in userspace
# (live in copy/afxdp mode the kernel applies interface_ip_filter first:
# t_xdp_ipfilter)
# keep exactly the calls they should, and count what they refused.
. "$(dirname "$0")/lib.sh"
# callers are 10.1.1.(i+1), callees 10.2.1.(i+1) for call i (docs/vsgen.md)
"$VSGEN" -n 4 -d 4 -o "$TMP/c.pcap" --truth "$TMP/c.truth" || fail vsgen

calls() { # conf-text -> prints sorted caller numbers of the CDRs
	printf '%b' "$1" >"$TMP/f.conf"
	rm -f "$TMP/out.json"
	"$VS_BIN" -c "$TMP/f.conf" --spooldir "$TMP/s" -r "$TMP/c.pcap" \
		--cdr-json "$TMP/out.json" --stats 2>"$TMP/log" || fail "voxsense: $1"
	python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["caller"] for l in open(sys.argv[1]))))' "$TMP/out.json"
}

got=$(calls 'interface_ip_filter = 10.1.1.1/32\ninterface_ip_filter = 10.2.1.3\n')
[ "$got" = "49301000000 49301000002" ] || fail "ip filter kept: $got"
grep -q '^pipeline.ip_filtered [1-9]' "$TMP/log" || fail "ip_filtered not counted"
ok "interface_ip_filter keeps calls 0 and 2 ($got)"

got=$(calls 'interface_ip_filter = 10.2.0.0/16\n')
[ "$got" = "49301000000 49301000001 49301000002 49301000003" ] || fail "/16 kept: $got"
ok "interface_ip_filter CIDR keeps all four"

got=$(calls 'filter = not host 10.1.1.2 and not host 10.2.1.4\n')
[ "$got" = "49301000000 49301000002" ] || fail "filter kept: $got"
grep -q '^pipeline.filtered [1-9]' "$TMP/log" || fail "filtered not counted"
ok "filter drops calls 1 and 3 ($got)"

"$VSGEN" -n 2 -d 3 --ipv6 -o "$TMP/c.pcap" --truth "$TMP/c.truth" || fail vsgen
got=$(calls 'interface_ip_filter = fd00::/8\n')
[ "$(echo "$got" | wc -w)" = 2 ] || fail "IPv6 allow-list kept: $got"
got=$(calls 'interface_ip_filter = 2001:db8::/32\n')
[ -z "$got" ] || fail "IPv6 allow-list should keep nothing: $got"
ok "IPv6 allow-list"
