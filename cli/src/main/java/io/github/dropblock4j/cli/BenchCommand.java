package io.github.dropblock4j.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import io.github.dropblock4j.core.DropBlockGamma;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;

/**
 * A quick version of the {@code bench} module's JMH comparison: times every {@link Contender} on
 * every {@link BenchmarkCase}, forward and forward+backward, with a plain loop, and prints a
 * Markdown table of median milliseconds with the ratios DropBlock / ready mask, DropBlock / Dropout
 * and dense DropBlock / DropBlock.
 *
 * <p>Within an iteration the contenders run one after another, in an order that rotates from one
 * iteration to the next, so that a shared machine's changing load falls on all of them alike and
 * the ratios stay meaningful even when the absolute times drift. Each step gets a fresh input and
 * is timed alone; creating the input and freeing the step's arrays are not timed.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description =
                "Time DropBlock against a ready mask, Dropout and the dense DropBlock (forward and"
                        + " forward+backward): median ms and ratios, as a Markdown table.")
final class BenchCommand implements Callable<Integer> {

    private static final int MAX_ITERATIONS = 10_000;

    @Spec private CommandSpec spec;

    @Option(
            names = "--case",
            paramLabel = "NxCxHxW/BLOCK",
            description =
                    "Input shape and block size, repeatable (default: 32x256x56x56/7,"
                        + " 32x512x28x28/7, 32x1024x14x14/7, 32x2048x7x7/7, 32x1024x14x14/3,"
                        + " 32x1024x14x14/5).")
    private List<String> cases = new ArrayList<>();

    @Option(
            names = "--contender",
            paramLabel = "NAME",
            description =
                    "Contenders to time, repeatable (default: all): ${COMPLETION-CANDIDATES}.")
    private List<Contender> contenders = new ArrayList<>();

    @Option(names = "--iterations", description = "Timed iterations (default: ${DEFAULT-VALUE}).")
    private int iterations = 10;

    @Option(
            names = "--warmup",
            description = "Untimed iterations first (default: ${DEFAULT-VALUE}).")
    private int warmup = 3;

    @Option(
            names = "--drop-prob",
            description = "Drop probability and dropout rate (default: ${DEFAULT-VALUE}).")
    private float dropProb = 0.1f;

    @Option(names = "--seed", description = "Engine random seed (default: ${DEFAULT-VALUE}).")
    private int seed = 1;

    /** The two timed passes. */
    private enum Pass {
        FORWARD("fwd"),
        FORWARD_BACKWARD("fwd+bwd");

        private final String label;

        Pass(String label) {
            this.label = label;
        }
    }

    @Override
    public Integer call() {
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException(
                    "--iterations must be in [1, " + MAX_ITERATIONS + "], got " + iterations);
        }
        if (warmup < 0 || warmup > MAX_ITERATIONS) {
            throw new IllegalArgumentException(
                    "--warmup must be in [0, " + MAX_ITERATIONS + "], got " + warmup);
        }
        try {
            DropBlockGamma.checkDropProb(dropProb);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--drop-prob: " + e.getMessage(), e);
        }
        List<BenchmarkCase> parsed = new ArrayList<>();
        for (String text : cases) {
            try {
                parsed.add(BenchmarkCase.parse(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--case: " + e.getMessage(), e);
            }
        }
        if (parsed.isEmpty()) {
            parsed.addAll(BenchmarkCase.DEFAULTS);
        }
        List<Contender> timed =
                contenders.isEmpty()
                        ? Arrays.asList(Contender.values())
                        : contenders.stream().distinct().toList();

        PrintWriter out = spec.commandLine().getOut();
        Engine engine = Engine.getInstance();
        engine.setRandomSeed(seed);
        out.printf(
                "%s %s, %d processors, drop prob %s, median ms of %d iterations after %d"
                    + " warm-up%n%n",
                engine.getEngineName(),
                engine.getVersion(),
                Runtime.getRuntime().availableProcessors(),
                dropProb,
                iterations,
                warmup);
        printHeader(out, timed);
        for (BenchmarkCase benchmarkCase : parsed) {
            try (NDManager manager = NDManager.newBaseManager()) {
                NDArray source = manager.randomUniform(-1f, 1f, benchmarkCase.shape());
                Map<Contender, UnaryOperator<NDArray>> prepared = new EnumMap<>(Contender.class);
                for (Contender c : timed) {
                    prepared.put(c, c.prepare(manager, benchmarkCase, dropProb));
                }
                for (Pass pass : Pass.values()) {
                    Map<Contender, Double> medians = time(manager, source, timed, prepared, pass);
                    printRow(out, benchmarkCase, pass, timed, medians);
                }
            }
        }
        out.println();
        out.println(
                "(1) DropBlock, (2) ready mask, (3) Dropout, (4) dense DropBlock, (5) DropBlock,"
                    + " engine ops. DropBlock keeps only its mask for backward: 4 bytes per input"
                    + " unit (float32, per channel).");
        out.flush();
        return 0;
    }

    private Map<Contender, Double> time(
            NDManager manager,
            NDArray source,
            List<Contender> timed,
            Map<Contender, UnaryOperator<NDArray>> prepared,
            Pass pass) {
        int n = timed.size();
        long[][] nanos = new long[n][iterations];
        for (int i = -warmup; i < iterations; i++) {
            for (int k = 0; k < n; k++) {
                int which = Math.floorMod(k + i, n);
                UnaryOperator<NDArray> forward = prepared.get(timed.get(which));
                try (NDManager step = manager.newSubManager()) {
                    NDArray input = Contender.input(step, source, pass == Pass.FORWARD_BACKWARD);
                    long start = System.nanoTime();
                    if (pass == Pass.FORWARD) {
                        Contender.forward(forward, input);
                    } else {
                        Contender.forwardBackward(forward, input);
                    }
                    long elapsed = System.nanoTime() - start;
                    if (i >= 0) {
                        nanos[which][i] = elapsed;
                    }
                }
            }
        }
        Map<Contender, Double> medians = new EnumMap<>(Contender.class);
        for (int k = 0; k < n; k++) {
            medians.put(timed.get(k), median(nanos[k]) / 1e6);
        }
        return medians;
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }

    private static void printHeader(PrintWriter out, List<Contender> timed) {
        StringBuilder header = new StringBuilder("| case | pass |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (Contender c : timed) {
            header.append(" (").append(c.ordinal() + 1).append(") ").append(c.label()).append(" |");
            rule.append("---:|");
        }
        header.append(" 1/2 | 1/3 | 4/1 |");
        rule.append("---:|---:|---:|");
        out.println(header);
        out.println(rule);
    }

    private static void printRow(
            PrintWriter out,
            BenchmarkCase benchmarkCase,
            Pass pass,
            List<Contender> timed,
            Map<Contender, Double> medians) {
        StringBuilder row = new StringBuilder("| " + benchmarkCase + " | " + pass.label + " |");
        for (Contender c : timed) {
            row.append(String.format(" %.2f |", medians.get(c)));
        }
        row.append(ratio(medians, Contender.DROPBLOCK, Contender.READY_MASK));
        row.append(ratio(medians, Contender.DROPBLOCK, Contender.DROPOUT));
        row.append(ratio(medians, Contender.DENSE_DROPBLOCK, Contender.DROPBLOCK));
        out.println(row);
        out.flush();
    }

    private static String ratio(Map<Contender, Double> medians, Contender a, Contender b) {
        Double x = medians.get(a);
        Double y = medians.get(b);
        return x == null || y == null ? " - |" : String.format(" %.2f |", x / y);
    }
}
