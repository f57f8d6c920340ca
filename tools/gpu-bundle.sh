#!/usr/bin/env bash
# Builds, on a machine with a JDK and Maven access, everything tools/gpu-check.sh needs on the GPU machine
# (which has no JDK and no network) into the ignored folder .gpu-bundle/:
#   jre.tar.xz  a jlinked Java 25 runtime (uncompressed modules + stripped libjvm, then xz: 15 MB instead of
#               the 44 MB of a --compress=zip-6 image; gpu-check.sh unpacks it to /tmp)
#   lib/        the project jars and their dependencies (JCuda natives trimmed to the driver binding)
#   launcher/   the JUnit console launcher (junit-platform-console-standalone, same line as the project)
#   tests/      the conformance kit's test classes (CudaConformanceTest), golden data inside the kit jar, and
#               CudaMicroBenchmark from backend-cuda's test classes
#   MANIFEST    what was bundled, from which commit, and the sizes
# The bundle must stay well under the 64 MiB the device tool carries together with the working tree.
# Usage (from the repository root): bash tools/gpu-bundle.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export JAVA_HOME="${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn=(./mvnw -B -ntp -q)
bundle="$root/.gpu-bundle"
console_version="1.14.1"   # JUnit Platform line of junit 5.14.x (parent pom)
limit_mib=40

echo "[gpu-bundle] building jars and the conformance kit's test class path (offline first, online only if a dependency is missing)"
# A reactor 'package' (never 'install': the local repository is shared), then build-classpath in the same
# run so the kit's class path points at the jars just built in this tree.
cpfile="conformance-tests/target/gpu-bundle-classpath.txt"
build=(-pl conformance-tests,backend-cuda -am package -DskipTests dependency:build-classpath
       -Dmdep.includeScope=test -Dmdep.outputFile=target/gpu-bundle-classpath.txt)
"${mvn[@]}" -o "${build[@]}" || "${mvn[@]}" "${build[@]}"

rm -rf "$bundle"
mkdir -p "$bundle/lib" "$bundle/launcher" "$bundle/tests"

tr ':' '\n' < "$cpfile" | while read -r jar || [ -n "$jar" ]; do  # the file has no final newline
  [ -n "$jar" ] || continue
  base="$(basename "$jar")"
  case "$base" in
    # The console launcher brings its own JUnit Platform and Jupiter.
    junit-*|opentest4j-*|apiguardian-*) continue ;;
    jcuda-natives-*)
      # Only the driver-API binding is used; the NVRTC/PTX-compiler/runtime bindings are 24 MB more.
      tmp="$(mktemp -d)"
      (cd "$tmp" && unzip -q "$jar" 'lib/libJCudaDriver-*' && zip -q -r "$bundle/lib/$base" lib)
      rm -rf "$tmp"
      ;;
    *) cp "$jar" "$bundle/lib/" ;;
  esac
done
if ! ls "$bundle"/lib/jcuda-natives-*.jar >/dev/null 2>&1; then
  echo "[gpu-bundle] ERROR: JCuda's natives jar did not reach $bundle/lib (class path: $cpfile)" >&2
  exit 1
fi
cp conformance-tests/target/dcformer4j-conformance-tests-*.jar "$bundle/lib/"
(cd conformance-tests/target/test-classes && zip -q -r "$bundle/tests/conformance-tests-tests.jar" .)
# CudaMicroBenchmark lives in backend-cuda's test sources (it is no part of the backend's jar).
(cd backend-cuda/target/test-classes && zip -q "$bundle/tests/cuda-micro-benchmark.jar" io/dcformer4j/backend/cuda/CudaMicroBenchmark*.class)

echo "[gpu-bundle] fetching the JUnit console launcher $console_version"
launcher_jar="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$console_version/junit-platform-console-standalone-$console_version.jar"
if [ ! -f "$launcher_jar" ]; then
  "${mvn[@]}" dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$console_version" -Dtransitive=false
fi
cp "$launcher_jar" "$bundle/launcher/"

echo "[gpu-bundle] jlinking a Java 25 runtime"
modules="java.base,jdk.incubator.vector,jdk.unsupported,java.management,java.logging,java.xml"
jre_tmp="$(mktemp -d)"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=zip-0 \
  --output "$jre_tmp/jre"
if command -v strip >/dev/null 2>&1; then
  strip --strip-unneeded "$jre_tmp/jre/lib/server/libjvm.so" "$jre_tmp"/jre/lib/*.so
fi
"$jre_tmp/jre/bin/java" --add-modules jdk.incubator.vector -cp "$bundle/lib/*" -version >/dev/null 2>&1
XZ_OPT="-6 -T0" tar -C "$jre_tmp" -cJf "$bundle/jre.tar.xz" jre
rm -rf "$jre_tmp"

{
  echo "commit: $(git rev-parse HEAD)$(git diff --quiet HEAD -- backend-cuda conformance-tests || echo ' (with uncommitted changes)')"
  echo "built: $(date -u +%FT%TZ) on $(uname -m)"
  echo "java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
  echo "modules: $modules"
  echo
  (cd "$bundle" && find . -type f \( -name '*.jar' -o -name '*.xz' \) -printf '%s\t%p\n' | sort -k2)
} > "$bundle/MANIFEST"

size_kib="$(du -sk "$bundle" | cut -f1)"
echo "[gpu-bundle] $bundle: $((size_kib / 1024)) MiB (limit $limit_mib MiB, the device tool carries 64 MiB with the tree)"
if [ "$size_kib" -gt $((limit_mib * 1024)) ]; then
  echo "[gpu-bundle] ERROR: the bundle is larger than $limit_mib MiB" >&2
  exit 1
fi
echo "[gpu-bundle] done: run the device check with carry [\".gpu-bundle\"] and command 'bash tools/gpu-check.sh'"
