"""The machine check: probes (GPU through NVML, RAM, disk, ports, long paths), verdicts and their words."""
