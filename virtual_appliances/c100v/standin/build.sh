#!/usr/bin/env bash
# Build the stand-in "C100V" disk image: a BIOS-bootable qcow2 whose guest behaves like ../CONSOLE.md,
# so the wrapper's mechanics can be tested without a licensed Cisco image.
#
#   build.sh OUTPUT.qcow2        (as root, on Debian 12; prints OUTPUT's path on stdout)
#
# Layout of the disk: one FAT filesystem on an MBR partition holding syslinux, a Debian kernel and an
# initramfs (busybox + dropbear + socat + the scripts in rootfs/). No loop mounts: mtools writes into
# the image file at the partition's offset. OUTPUT.inputs records the hash of this folder; an OUTPUT built
# from the same inputs is reused as it is.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUTPUT.qcow2" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(realpath -m "$1")
t0=$(date +%s.%N)

# ---- cache: the hash of every file in this folder (names and contents) ---------------------------
inputs=$(cd "$here" && find . -type f ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [[ -f $out && -f $out.inputs && $(<"$out.inputs") == "$inputs" ]]; then
    echo "build.sh: $out is up to date (inputs $inputs)" >&2
    echo "$out"
    exit 0
fi
[[ $(id -u) -eq 0 ]] || { echo "$0: must run as root (apt-get, file ownership in the initramfs)" >&2; exit 2; }

# ---- host tools (installed only when missing) ------------------------------------------------------
# command -> Debian package; busybox must be the static one, since the initramfs has no libc for it.
declare -A tools=(
    [qemu-img]=qemu-utils [syslinux]=syslinux [mcopy]=mtools [mkfs.vfat]=dosfstools [cpio]=cpio
    [dropbear]=dropbear-bin [dropbearkey]=dropbear-bin [socat]=socat [openssl]=openssl
)
missing=()
for cmd in "${!tools[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 \
        || missing+=("${tools[$cmd]}")
done
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || missing+=(syslinux-common)
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "build.sh: installing ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
export PATH=$PATH:/usr/sbin:/sbin

work=$(mktemp -d /tmp/c100v-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---- kernel: the current Debian cloud kernel, unpacked, never installed ------------------------------
# apt-get download warns that _apt cannot write to a root-owned temp dir and fetches as root instead:
# harmless, hence the silenced output.
fetch() {  # fetch PACKAGE: download its .deb into $work/debs, once more after apt-get update if needed
    mkdir -p "$work/debs"
    (cd "$work/debs" && { apt-get download -q "$1" >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q "$1" >/dev/null; }; })
}
fetch linux-image-cloud-amd64
meta=$(ls "$work"/debs/linux-image-cloud-amd64_*.deb)
# The metapackage depends on exactly one versioned kernel package, e.g. linux-image-6.1.0-56-cloud-amd64.
kpkg=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
[[ -n $kpkg ]] || { echo "build.sh: cannot resolve the kernel package from $meta" >&2; exit 1; }
fetch "$kpkg"
dpkg-deb -x "$(ls "$work"/debs/"$kpkg"_*.deb)" "$work/kernel"
kver=${kpkg#linux-image-}
kdir=$work/kernel/lib/modules/$kver
[[ -f $work/kernel/boot/vmlinuz-$kver ]] || { echo "build.sh: no vmlinuz in $kpkg" >&2; exit 1; }
# The .deb ships no modules.dep (its postinst runs depmod); busybox depmod makes one.
[[ -f $kdir/modules.dep ]] || busybox depmod -b "$work/kernel" "$kver"

# ---- initramfs tree ----------------------------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,dev,etc,home/admin,lib64,lib/x86_64-linux-gnu,proc,root,run,sys,tmp,usr,var/log}
ln -s ../bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
chmod 1777 "$root/tmp"
cp -a "$here/rootfs/." "$root/"
chmod 755 "$root/init" "$root"/bin/asyncos-*

cp /bin/busybox "$root/bin/busybox"
for applet in $(busybox --list); do
    [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done

copy_with_libs() {  # copy_with_libs BINARY: the binary into /bin and its shared libraries at their host paths
    local bin=$1 lib
    cp -L "$bin" "$root/bin/"
    for lib in $(ldd "$bin" | grep -o '/[^ ]*\.so[^ ]*'); do
        [[ -e $root$lib ]] || { mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; }
    done
}
copy_with_libs "$(command -v dropbear)"
copy_with_libs "$(command -v socat)"

# Kernel modules for the virtio disk and NIC, with their dependencies first (modules.dep, resolved
# recursively: busybox depmod does not list dependencies in load order). Compressed ones are
# decompressed here so busybox insmod can load them.
mods=()
want_module() {  # want_module PATH-IN-MODULES.DEP
    local m=$1 dep
    [[ " ${mods[*]-} " == *" $m "* ]] && return 0
    for dep in $(sed -n "s|^${m//./\\.}: *||p" "$kdir/modules.dep"); do want_module "$dep"; done
    mods+=("$m")
}
for name in virtio_pci virtio_blk virtio_net; do
    path=$(grep -oE "^[^:]*/$name\.ko(\.xz|\.gz|\.zst)?:" "$kdir/modules.dep" | tr -d ':' || true)
    if [[ -z $path ]]; then
        grep -qE "/$name\.ko" "$kdir/modules.builtin" || { echo "build.sh: module $name not found" >&2; exit 1; }
        continue  # built into this kernel
    fi
    want_module "$path"
done
: >"$root/etc/modules.load"
for m in "${mods[@]}"; do
    dest=$root/lib/modules/${m%.xz}; dest=${dest%.gz}; dest=${dest%.zst}
    mkdir -p "$(dirname "$dest")"
    case $m in
        *.xz) xz -dc "$kdir/$m" >"$dest" ;;
        *.gz) gzip -dc "$kdir/$m" >"$dest" ;;
        *.zst) zstd -qdc "$kdir/$m" >"$dest" ;;
        *) cp "$kdir/$m" "$dest" ;;
    esac
    echo "${dest#"$root"}" >>"$root/etc/modules.load"
done

# Accounts: admin is uid 0 because its shell, the CLI, applies committed changes (addresses, listeners
# on ports below 1024) itself, from the console and from SSH sessions alike.
hash=$(openssl passwd -6 ironport)
cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
admin:x:0:0:Administrator:/home/admin:/bin/asyncos-cli
EOF
cat >"$root/etc/shadow" <<EOF
root:*:19000:0:99999:7:::
admin:$hash:19000:0:99999:7:::
EOF
chmod 600 "$root/etc/shadow"
printf 'root:x:0:\n' >"$root/etc/group"
printf '/bin/sh\n/bin/asyncos-cli\n' >"$root/etc/shells"  # dropbear refuses shells not listed here
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"

# Keys made here rather than at first boot: the guest boots faster (TCG) and there is no first boot
# on a throw-away overlay anyway.
mkdir -p "$root/etc/dropbear" "$root/etc/asyncos/tls"
# All three key types: dropbear 2022.83 aborts the key exchange (failed assertion in rsa.c) when a client
# such as asyncssh negotiates rsa-sha2-* and there is no RSA host key.
for type in ed25519 ecdsa rsa; do
    dropbearkey -t $type -f "$root/etc/dropbear/dropbear_${type}_host_key" >/dev/null 2>&1
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -subj "/CN=ironport.example.com" -keyout "$root/etc/asyncos/tls/key.pem" \
    -out "$root/etc/asyncos/tls/cert.pem" >/dev/null 2>&1
chmod 600 "$root/etc/asyncos/tls/key.pem"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$work/initrd.gz"

# ---- disk: MBR (syslinux mbr.bin) + one bootable FAT16 partition at 1 MiB ----------------------------------
kernel=$work/kernel/boot/vmlinuz-$kver
payload_kib=$(( ($(stat -c %s "$kernel") + $(stat -c %s "$work/initrd.gz")) / 1024 ))
part_mib=$(( payload_kib / 1024 + 4 ))  # room for the FAT tables and syslinux
disk=$work/disk.img
truncate -s $(( (part_mib + 1) * 1024 * 1024 )) "$disk"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
# The partition table written by hand (no fdisk needed): entry 1 = active, FAT16-LBA (0x0e), CHS fields
# saturated (LBA only), from sector 2048 to the end; then the boot signature.
entry="\\x80\\xfe\\xff\\xff\\x0e\\xfe\\xff\\xff$(le32 2048)$(le32 $(( part_mib * 2048 )))"
printf "$entry" | dd of="$disk" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$disk" bs=1 seek=510 conv=notrunc status=none
offset=$(( 2048 * 512 ))
mkfs.vfat -F 16 -n C100V --offset 2048 "$disk" $(( part_mib * 1024 )) >/dev/null
# mtools addresses the partition as image@@offset.
export MTOOLS_SKIP_CHECK=1
mcopy -i "$disk@@$offset" "$kernel" ::vmlinuz
mcopy -i "$disk@@$offset" "$work/initrd.gz" ::initrd.gz
mcopy -i "$disk@@$offset" "$here/syslinux.cfg" ::syslinux.cfg
syslinux --install --offset "$offset" "$disk"

mkdir -p "$(dirname "$out")"
rm -f "$out" "$out.inputs"
qemu-img convert -q -O qcow2 "$disk" "$out.tmp"
mv "$out.tmp" "$out"
echo "$inputs" >"$out.inputs"

t1=$(date +%s.%N)
printf 'build.sh: built %s (kernel %s, initramfs %s KiB, qcow2 %s KiB) in %.1fs\n' "$out" "$kver" \
    $(( $(stat -c %s "$work/initrd.gz") / 1024 )) $(( $(stat -c %s "$out") / 1024 )) "$(awk "BEGIN { print $t1 - $t0 }")" >&2
echo "$out"
