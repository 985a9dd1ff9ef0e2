"""Resolve Apache Kafka's jars (one pinned 4.x release) and their dependencies from Maven Central with Maven."""

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

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>casehub</groupId><artifactId>kafka-runtime</artifactId><version>{kafka}</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
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


def ensure_jars(cache_dir: Path) -> Path:
    """Return the folder holding Kafka's jars and their dependencies, resolving them with Maven on first use."""
    libs = cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"
    complete = libs.parent / ".complete"
    # kafka-tools brings Kafka's own console producer and consumer (clients casehub did not write, for tests)
    if complete.exists() and any(libs.glob("kafka_2.13-*.jar")) and any(libs.glob("kafka-tools-[0-9]*.jar")):
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        raise ToolMissing("Maven is not installed", hint="install it, e.g. `apt-get install maven`")
    libs.parent.mkdir(parents=True, exist_ok=True)
    pom = libs.parent / "pom.xml"
    pom.write_text(_POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION))
    log.info("resolving kafka jars", version=KAFKA_VERSION, into=str(libs))
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
         f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise JarsUnavailable(
            f"Maven could not fetch Apache Kafka {KAFKA_VERSION}: {' | '.join(tail)}",
            hint="check that Maven Central is reachable (mvn -v; ~/.m2/settings.xml)",
        )
    complete.write_text(KAFKA_VERSION)
    return libs
