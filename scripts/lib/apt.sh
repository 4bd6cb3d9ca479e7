# Sourced by the ensure-*.sh scripts: installs Debian packages with apt-get,
# as root or through sudo, waiting for the locks another apt-get or dpkg (a
# parallel install, unattended-upgrades) holds instead of failing on them.
# The sourcing script defines `fail <message>`, which prints how to install
# by hand and exits.
#
# apt takes four fcntl locks. `-o DPkg::Lock::Timeout` makes apt-get wait
# for dpkg's two (/var/lib/dpkg/lock-frontend and lock), but not, as of apt
# 2.6, for the lists lock `apt-get update` takes nor the archives lock a
# download takes: on those it fails at once ("Could not get lock"). So
# apt_install waits for those two itself, probing them with F_GETLK, which
# asks without taking (taking the lock to see would make the holder's own
# next attempt fail).

# How long, in seconds, apt_install waits for each lock.
apt_lock_timeout=300

# apt_lock_held <file>: true while another process holds a write-conflicting
# fcntl lock on <file>; false when it is free or does not exist. Perl is
# Essential on Debian, so it is there on a fresh machine, where python may
# not be. The struct flock is zeroed past l_type and l_whence (its first
# two shorts on every Linux ABI): a zero start and length cover the whole
# file, and the kernel writes F_UNLCK back in l_type when nothing conflicts.
apt_lock_held() {
  ${apt_as_root[@]+"${apt_as_root[@]}"} perl -MFcntl -e '
    open(my $fh, "<", $ARGV[0]) or exit 1;
    my $lock = pack("s s x28", F_WRLCK, SEEK_SET);
    fcntl($fh, F_GETLK, $lock) or exit 1;
    exit((unpack("s", $lock))[0] == F_UNLCK ? 1 : 0);
  ' "$1"
}

# apt_wait_for_lock <file> <deadline, in seconds since the epoch>: returns
# once nobody holds <file>, or fails at the deadline.
apt_wait_for_lock() {
  local file=$1 deadline=$2 said=
  while apt_lock_held "$file"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    if [ -z "$said" ]; then
      echo "waiting for another apt-get or dpkg to release $file..." >&2
      said=1
    fi
    sleep 0.5
  done
}

# apt_get_when_free <lock file> <apt-get argument>...: runs apt-get once
# <lock file> is free. Between the probe and apt-get another process may
# take the lock first; apt-get then fails at once, and is run again once the
# lock is free, until the deadline.
apt_get_when_free() {
  local lock=$1
  shift
  local deadline=$(($(date +%s) + apt_lock_timeout)) status
  while :; do
    apt_wait_for_lock "$lock" "$deadline" || fail "another apt-get or dpkg held $lock for ${apt_lock_timeout} s"
    ${apt_as_root[@]+"${apt_as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$apt_lock_timeout" "$@" && return 0
    status=$?
    apt_lock_held "$lock" && [ "$(date +%s)" -lt "$deadline" ] || return "$status"
  done
}

# apt_install <what is missing> [apt-get install option]... <package>...
apt_install() {
  local missing=$1
  shift
  local arg packages=()
  for arg in "$@"; do [[ $arg == -* ]] || packages+=("$arg"); done
  local what="${packages[*]}"
  command -v apt-get >/dev/null 2>&1 || fail "$missing, and there is no apt-get to install $what with"
  # Root runs apt-get as is; anyone else needs sudo. (Dynamic scope: the functions above see it.)
  local apt_as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || fail "$missing, and installing $what needs root (or sudo, which is missing)"
    apt_as_root=(sudo)
  fi
  # Where this machine's apt keeps its lists and downloads (Dir::State::lists, Dir::Cache::archives).
  local LISTS=/var/lib/apt/lists/ ARCHIVES=/var/cache/apt/archives/
  eval "$(apt-config shell LISTS Dir::State::lists/d ARCHIVES Dir::Cache::archives/d)"
  apt_get_when_free "${LISTS%/}/lock" update || fail "'apt-get update' failed"
  apt_get_when_free "${ARCHIVES%/}/lock" install -y "$@" || fail "'apt-get install $what' failed"
}
