package io.github.dropblock4j.cli.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.dropblock4j.bench.BenchmarkCase;
import io.github.dropblock4j.bench.Contender;
import io.github.dropblock4j.bench.InterleavedTimer;
import io.github.dropblock4j.bench.Pass;
import io.github.dropblock4j.cli.input.DropProbOption;
import io.github.dropblock4j.cli.input.SeedOption;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * A quick version of the {@code bench} module's JMH comparison: times every {@link Contender} on
 * every {@link BenchmarkCase}, forward and forward+backward, with the bench module's {@link
 * InterleavedTimer}, and prints a Markdown table of median milliseconds with the ratios DropBlock /
 * ready mask, DropBlock / Dropout and dense DropBlock / DropBlock.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description =
                "Time DropBlock against a ready mask, Dropout and the dense DropBlock (forward and"
                        + " forward+backward), all at rate --drop-prob: median ms and ratios, as a"
                        + " Markdown table.")
public final class BenchCommand implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Option(
            names = "--case",
            paramLabel = "NxCxHxW/BLOCK",
            converter = CaseConverter.class,
            description =
                    "Input shape and block size, repeatable (default: 32x256x56x56/7,"
                            + " 32x512x28x28/7, 32x1024x14x14/7, 32x2048x7x7/7, 32x1024x14x14/3,"
                            + " 32x1024x14x14/5).")
    private List<BenchmarkCase> cases = new ArrayList<>();

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

    @Mixin private DropProbOption dropProb;

    @Mixin private SeedOption seed;

    /** {@inheritDoc} */
    @Override
    public Integer call() {
        InterleavedTimer timer;
        try {
            timer = new InterleavedTimer(warmup, iterations);
        } catch (IllegalArgumentException e) {
            // The timer's arguments are named as the options are.
            throw new ParameterException(spec.commandLine(), "--" + e.getMessage(), e);
        }
        List<BenchmarkCase> parsed = cases.isEmpty() ? BenchmarkCase.DEFAULTS : cases;
        List<Contender> timed =
                contenders.isEmpty()
                        ? Arrays.asList(Contender.values())
                        : contenders.stream().distinct().toList();

        PrintWriter out = spec.commandLine().getOut();
        Engine engine = Engine.getInstance();
        engine.setRandomSeed(seed.seed());
        out.printf(
                "%s %s, %d processors, drop prob %s, median ms of %d iterations after %d"
                        + " warm-up%n%n",
                engine.getEngineName(),
                engine.getVersion(),
                Runtime.getRuntime().availableProcessors(),
                dropProb.dropProb(),
                iterations,
                warmup);
        printHeader(out, timed);
        for (BenchmarkCase benchmarkCase : parsed) {
            try (NDManager manager = NDManager.newBaseManager()) {
                NDArray source = manager.randomUniform(-1f, 1f, benchmarkCase.shape());
                List<UnaryOperator<NDArray>> prepared = new ArrayList<>();
                for (Contender c : timed) {
                    prepared.add(c.prepare(manager, benchmarkCase, dropProb.dropProb()));
                }
                for (Pass pass : Pass.values()) {
                    double[] millis = timer.medianMillis(source, prepared, pass);
                    Map<Contender, Double> medians = new EnumMap<>(Contender.class);
                    for (int k = 0; k < timed.size(); k++) {
                        medians.put(timed.get(k), millis[k]);
                    }
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
        StringBuilder row = new StringBuilder("| " + benchmarkCase + " | " + pass.label() + " |");
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

    /** Parses {@code --case} with {@link BenchmarkCase#parse}, whose message names the rule. */
    static final class CaseConverter implements ITypeConverter<BenchmarkCase> {

        /** {@inheritDoc} */
        @Override
        public BenchmarkCase convert(String value) {
            try {
                return BenchmarkCase.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
