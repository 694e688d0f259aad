package dev.tether.gateway.worker.process;

import dev.tether.gateway.config.ProcessWorkerConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The limits a worker gets before its program starts, as {@code tether-spawn} takes them in a spawn
 * request ({@link Spawner#spawn(List, java.util.Map, java.nio.file.Path, List)}): its control
 * groups first (so that everything after is charged to them), then {@code oom_score_adj}, then the
 * resource limits, soft and hard alike. A limit whose key is 0 ("no limit") is not set: the worker
 * keeps the gateway's. Stateless.
 */
final class SpawnLimits {

    private SpawnLimits() {}

    /**
     * @param group the worker's control groups, or null when limits are polled
     * @param groupLimitsProcesses whether {@code group} has a pids limit (then {@code RLIMIT_NPROC} is not set)
     */
    static List<String> of(ProcessWorkerConfig config, ControlGroups.ControlGroup group, boolean groupLimitsProcesses) {
        List<String> limits = new ArrayList<>();
        if (group != null) {
            group.procsFiles().forEach(file -> limits.add("cgroup=" + file));
        }
        limits.add("oom_score_adj=" + config.oomScoreAdj());
        limits.add("rlimit_nofile=" + config.maxOpenFiles());
        if (config.maxProcesses() != 0 && !(group != null && groupLimitsProcesses)) {
            limits.add("rlimit_nproc=" + config.maxProcesses());
        }
        if (config.maxFileSize() != 0) {
            limits.add("rlimit_fsize=" + config.maxFileSize());
        }
        if (!config.maxCpuTime().isZero()) {
            limits.add("rlimit_cpu=" + config.maxCpuTime().toSeconds());
        }
        if (!config.coreDumps()) {
            limits.add("rlimit_core=0");
        }
        return List.copyOf(limits);
    }
}
