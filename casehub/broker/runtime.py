"""Resolve pinned Java jars (Apache Kafka 4.x, Apache Avro) and their dependencies from Maven Central with Maven."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from casehub.broker.exceptions import JarsUnavailable, ToolMissing
from casehub.core.logging import get_logger

# the one place the Kafka release is written; docker/compose.yaml's image tag follows it (checked by a test)
KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.24.3"

AVRO_VERSION = "1.12.2"
"""Apache Avro for Java: the third parser every published schema must pass (the Python ``avro`` package matches it)."""

KAFKA_ARTIFACTS = (
    f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}",
    # kafka-tools brings Kafka's own console producer and consumer (clients casehub did not write, for tests)
    f"org.apache.kafka:kafka-tools:{KAFKA_VERSION}",
    f"org.apache.logging.log4j:log4j-core:{LOG4J_VERSION}",
    f"org.apache.logging.log4j:log4j-slf4j-impl:{LOG4J_VERSION}",
)
AVRO_ARTIFACTS = (f"org.apache.avro:avro:{AVRO_VERSION}",)

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>casehub</groupId><artifactId>{name}</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""

log = get_logger(__name__)


def java_binary() -> str:
    """The java executable (JAVA_HOME's if set by the machine, else PATH's), checked to be 17 or newer."""
    import os

    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ToolMissing("Java is not installed", hint="install a JDK 17 or newer, e.g. `apt-get install openjdk-17-jdk-headless`")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)', out)
    if not match or int(match.group(1)) < 17:
        raise ToolMissing(f"Kafka {KAFKA_VERSION} needs Java 17 or newer; found: {out.splitlines()[:1]}", hint="install JDK 17+")
    return java


def maven_binary() -> str:
    """The mvn executable; raises ToolMissing when Maven is not installed."""
    mvn = shutil.which("mvn")
    if not mvn:
        raise ToolMissing("Maven is not installed", hint="install it, e.g. `apt-get install maven`")
    return mvn


def _dependency(coordinates: str) -> str:
    group, artifact, version = coordinates.split(":")
    return (f"    <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>")


def resolve_jars(folder: Path, artifacts: tuple[str, ...], *, name: str) -> Path:
    """Copy ``artifacts`` (``group:artifact:version``) and their runtime dependencies into ``folder/libs`` with Maven.

    Maven fetches from Maven Central into its local repository once; a later call finds everything there.
    """
    mvn = maven_binary()
    libs = folder / "libs"
    folder.mkdir(parents=True, exist_ok=True)
    pom = folder / "pom.xml"
    pom.write_text(_POM.format(name=name, dependencies="\n".join(_dependency(a) for a in artifacts)))
    log.info("resolving jars", artifacts=list(artifacts), into=str(libs))
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
         f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise JarsUnavailable(
            f"Maven could not fetch {', '.join(artifacts)}: {' | '.join(tail)}",
            hint="check that Maven Central is reachable (mvn -v; ~/.m2/settings.xml)",
        )
    return libs


def ensure_jars(cache_dir: Path) -> Path:
    """Return the folder holding Kafka's jars and their dependencies, resolving them with Maven on first use."""
    folder = cache_dir / f"kafka-{KAFKA_VERSION}"
    libs, complete = folder / "libs", folder / ".complete"
    if complete.exists() and any(libs.glob("kafka_2.13-*.jar")) and any(libs.glob("kafka-tools-[0-9]*.jar")):
        return libs
    resolve_jars(folder, KAFKA_ARTIFACTS, name="kafka-runtime")
    complete.write_text(KAFKA_VERSION)
    return libs


def ensure_avro_jars(cache_dir: Path) -> Path:
    """Return the folder holding Apache Avro's Java jars (and Jackson, which it needs), resolving them on first use."""
    folder = cache_dir / f"avro-{AVRO_VERSION}"
    libs, complete = folder / "libs", folder / ".complete"
    if complete.exists() and any(libs.glob(f"avro-{AVRO_VERSION}.jar")):
        return libs
    resolve_jars(folder, AVRO_ARTIFACTS, name="avro-runtime")
    complete.write_text(AVRO_VERSION)
    return libs
