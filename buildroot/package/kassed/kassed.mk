################################################################################
#
# kassed
#
################################################################################

# The source is this repository itself: the tree above the BR2_EXTERNAL.
KASSED_VERSION = local
KASSED_SITE = $(BR2_EXTERNAL_KASSE_PATH)/..
KASSED_SITE_METHOD = local
KASSED_GOMOD = kasse
KASSED_BUILD_TARGETS = cmd/kassed cmd/kassectl
KASSED_INSTALL_BINS = kassed kassectl

# Pure Go: no C toolchain at run time, the same static binaries as make cross.
KASSED_GO_ENV = CGO_ENABLED=0

# Build products and Buildroot output trees under the repository must not be
# copied into the package's build directory (an O= inside the repo would
# otherwise copy itself).
KASSED_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /bin --exclude /demo --exclude /output --exclude /vendor

# A local site skips the download step, and with it the Go vendoring that
# golang-package builds rely on (GOFLAGS=-mod=vendor, GOPROXY=off). Vendor
# here, from the module proxy (or KASSED_GOPROXY, e.g. a mirror or "off" with
# a filled GOMODCACHE); go.sum pins every module.
KASSED_GOPROXY ?= https://proxy.golang.org,direct
define KASSED_VENDOR_MODULES
	cd $(@D) && $(HOST_GO_COMMON_ENV) GOFLAGS= GOPROXY="$(KASSED_GOPROXY)" \
		$(GO_BIN) mod vendor -modcacherw
endef
KASSED_POST_RSYNC_HOOKS += KASSED_VENDOR_MODULES

# Fixed IDs: kasse owns the database on the data partition, which outlives
# every rootfs update, so its uid/gid must not move between images. The
# device groups are matched by name (udev rules), so they may be automatic.
define KASSED_USERS
	- - kasseadm 951 - - - - kasse control socket admins
	kasse 950 kasse 950 * - - spi,gpio,dialout,input,kasseadm kassed daemon
endef

define KASSED_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(BR2_EXTERNAL_KASSE_PATH)/board/kasse/rootfs-overlay/usr/lib/systemd/system/kassed.service \
		$(TARGET_DIR)/usr/lib/systemd/system/kassed.service
endef

define KASSED_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(KASSED_PKGDIR)/S90kassed \
		$(TARGET_DIR)/etc/init.d/S90kassed
endef

$(eval $(golang-package))
