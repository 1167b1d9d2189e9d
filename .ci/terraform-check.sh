#!/usr/bin/env bash
# The Terraform export, checked by the real Terraform: builds Terraform 1.5.7
# from the module proxy (once; the binary is cached), takes SAP's btp
# provider and Cloud Foundry's provider from ../shared/tools, and runs the
# e2e test that exports a fresh profile per runtime and plan against the
# simulator and runs terraform init, validate and plan on it. The plan must
# show the imports and 0 to add, 0 to change, 0 to destroy.
#
# Outside CI, without the providers, it says so and exits 0.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
tools="$root/../shared/tools"
btp="$tools/terraform-provider-btp_5270a96"
cf="$tools/terraform-provider-cloudfoundry_7367d63"
platform="$(go env GOOS)_$(go env GOARCH)"

if [ ! -x "$btp" ] || [ ! -x "$cf" ] || [ "$platform" != linux_amd64 ]; then
	if [ -n "${CI:-}" ]; then
		echo "terraform-check: the Terraform providers for linux_amd64 are not in ../shared/tools" >&2
		exit 1
	fi
	echo "terraform-check: skipped: no Terraform providers for $platform in ../shared/tools"
	exit 0
fi

export CHECKPOINT_DISABLE=1 # no update check: the registry and HashiCorp are out of reach

# Terraform itself, built from source by the Go toolchain and kept in the
# user's cache: the first build takes a few minutes on 2 cores, later runs
# reuse the binary.
version=1.5.7
cache="${XDG_CACHE_HOME:-$HOME/.cache}/cpikey-ci/terraform-$version"
tf="$cache/terraform"
if ! "$tf" version 2>/dev/null | head -1 | grep -qx "Terraform v$version"; then
	echo "building Terraform $version (go install; cached in $cache)"
	t0=$(date +%s)
	mkdir -p "$cache"
	GOBIN="$cache" go install "github.com/hashicorp/terraform@v$version"
	echo "built Terraform $version in $(($(date +%s) - t0))s"
fi
"$tf" version 2>/dev/null | head -1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# dev_overrides make validate and plan run the providers from shared/tools.
# terraform init still asks the registry for overridden providers, so a
# local mirror holds the same binaries under a version that satisfies the
# export's "~> 1.0" (1.25.0 and 1.16.0: the releases the builds follow).
mkdir -p "$work/overrides"
ln -s "$btp" "$work/overrides/terraform-provider-btp"
ln -s "$cf" "$work/overrides/terraform-provider-cloudfoundry"
mirror="$work/mirror/registry.terraform.io"
mkdir -p "$mirror/sap/btp/1.25.0/$platform" "$mirror/cloudfoundry/cloudfoundry/1.16.0/$platform"
ln -s "$btp" "$mirror/sap/btp/1.25.0/$platform/terraform-provider-btp"
ln -s "$cf" "$mirror/cloudfoundry/cloudfoundry/1.16.0/$platform/terraform-provider-cloudfoundry"
cat >"$work/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "SAP/btp"                   = "$work/overrides"
    "cloudfoundry/cloudfoundry" = "$work/overrides"
  }
  filesystem_mirror {
    path = "$work/mirror"
  }
}
EOF

# The test logs each plan's summary line ("terraform plan cf/api: Plan: 4 to
# import, 0 to add, 0 to change, 0 to destroy.") and fails on any other.
CPIKEY_TERRAFORM="$tf" CPIKEY_TF_CLI_CONFIG="$work/terraformrc" \
	go test -count=1 -v -run '^TestTerraformExport_' ./e2e/
