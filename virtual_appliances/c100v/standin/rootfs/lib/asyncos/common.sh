# Shared by the stand-in's scripts (sourced, busybox sh).
#
# The committed configuration lives in one file, /run/asyncos/config (KEY='value' lines), so that the
# console and every SSH session see the same state; it is replaced atomically (write + mv). Values are
# validated before they get there (no quotes can appear in them), which makes sourcing it safe.

STATE=/run/asyncos
CONFIG=$STATE/config
CONFIG_KEYS="HOSTNAME IFNAME IP PREFIX IFHOST GATEWAY SSH SSH_PORT HTTPS HTTPS_PORT API API_PORT"
PRODUCT="Cisco C100V Email Security Virtual Appliance"
VERSION=13.0.0-392

# The factory state of a C100V (reference 1.1: 192.168.42.42, ironport.example.com).
factory_config() {
    cat <<'EOF'
C_HOSTNAME='ironport.example.com'
C_IFNAME='Management'
C_IP='192.168.42.42'
C_PREFIX='24'
C_IFHOST='ironport.example.com'
C_GATEWAY=''
C_SSH='Y'
C_SSH_PORT='22'
C_HTTPS='Y'
C_HTTPS_PORT='443'
C_API='N'
C_API_PORT='6443'
EOF
}

load_config() {
    # shellcheck disable=SC1090
    . "$CONFIG"
}

# write_config: the C_* variables of this shell become the committed configuration.
write_config() {
    tmp=$CONFIG.$$
    for key in $CONFIG_KEYS; do
        eval "printf \"C_%s='%s'\\n\" \"\$key\" \"\$C_$key\""
    done >"$tmp"
    mv -f "$tmp" "$CONFIG"
}

# "Mon Nov 23 10:00:00 2026", the format of "Last login" and "Changes committed".
now() {
    date '+%a %b %d %H:%M:%S %Y'
}
