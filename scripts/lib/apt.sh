# Sourced by the ensure-*.sh scripts: installs Debian packages with apt-get,
# as root or through sudo, waiting for the dpkg lock (another apt-get or
# dpkg, a parallel install) instead of failing on it. The sourcing script
# defines `fail <message>`, which prints how to install by hand and exits.

# apt_install <what is missing> [apt-get install option]... <package>...
apt_install() {
  local missing=$1
  shift
  local arg packages=()
  for arg in "$@"; do [[ $arg == -* ]] || packages+=("$arg"); done
  local what="${packages[*]}"
  command -v apt-get >/dev/null 2>&1 || fail "$missing, and there is no apt-get to install $what with"
  local as_root=()
  # Root runs apt-get as is; anyone else needs sudo.
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "$missing, and installing $what needs root (or sudo, which is missing)"
    as_root=(sudo)
  fi
  local apt_get=(apt-get -o DPkg::Lock::Timeout=300)
  ${as_root[@]+"${as_root[@]}"} "${apt_get[@]}" update || fail "'apt-get update' failed"
  ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y "$@" || fail "'apt-get install $what' failed"
}
