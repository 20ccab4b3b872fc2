# SPDX-License-Identifier: MIT
# peers/local.mk - the peers (harness/peers.c): Niksic's LazyTransform (2017) in
# Java and in Rust, built into this build tree when configure found their
# toolchains.  Included by Makefile.am.

# Minimal.java, src/bin/minimal.rs: the same get with nothing else, for
# scripts/peer_overhead.sh (not run by smrbench).
PEER_JVM_FILES = peers/jvm/LazyPeer.java peers/jvm/Minimal.java
PEER_CROSSBEAM_FILES = peers/crossbeam/Cargo.toml peers/crossbeam/.cargo/config.toml \
	peers/crossbeam/src/main.rs peers/crossbeam/src/bin/minimal.rs
EXTRA_DIST += $(PEER_JVM_FILES) $(PEER_CROSSBEAM_FILES)
noinst_DATA =

if PEER_JVM
noinst_DATA += peers/jvm/LazyPeer.class
peers/jvm/LazyPeer.class: $(PEER_JVM_FILES)
	@$(MKDIR_P) peers/jvm
	$(AM_V_GEN)$(JAVAC) -nowarn -d peers/jvm $(PEER_JVM_FILES:%=$(srcdir)/%)
endif

if PEER_CROSSBEAM
noinst_DATA += peers/crossbeam/smrb-crossbeam
# cargo writes Cargo.lock and target/ beside the manifest, and reads
# .cargo/config.toml (the offline Debian registry) from where it runs: it
# builds a copy of the sources, in peers/crossbeam.build/ of the build tree
# (a name no source file has, so that make's VPATH never takes the copy for
# the source).
peers/crossbeam/smrb-crossbeam: $(PEER_CROSSBEAM_FILES)
	@rm -rf peers/crossbeam.build/src && $(MKDIR_P) peers/crossbeam peers/crossbeam.build/src/bin peers/crossbeam.build/.cargo
	@for f in $(PEER_CROSSBEAM_FILES); do \
	  cp "$(srcdir)/$$f" "peers/crossbeam.build/$${f#peers/crossbeam/}" || exit 1; \
	done
	$(AM_V_GEN)cd peers/crossbeam.build && $(CARGO) build --release --offline --quiet && \
	  cp target/release/minimal ../crossbeam/minimal && cp target/release/smrb-crossbeam ../crossbeam/smrb-crossbeam
endif

clean-local: clean-peers
clean-peers:
	rm -rf peers/jvm/*.class peers/crossbeam.build peers/crossbeam/smrb-crossbeam peers/crossbeam/minimal
.PHONY: clean-peers

# Their tests (each peer's verify, its row, planted faults); skipped when no peer is built.
TESTS += tests/peers.sh
EXTRA_DIST += tests/peers.sh
AM_TESTS_ENVIRONMENT += JAVA='$(JAVA)'; export JAVA;
