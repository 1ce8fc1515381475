# Shared by the bats files: assertions, and a check that the commands under
# test are this tree's fresh build, not an installed copy.
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup() {
	case $(command -v wb-count) in
	"$TOP"/cmd/*) ;;
	*) echo "wb-count is not this tree's build: run through make check" >&2
	   return 1 ;;
	esac
}
