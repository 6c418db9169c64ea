package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.EasyTrain;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.Batchifier;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A model with DropBlock saved by DJL here and loaded by another JVM, as a trained model is
 * deployed; and a saved file whose DropBlock section was tampered with, refused by {@link
 * Model#load(Path, String)}.
 */
class DropBlockFreshJvmLoadTest {

    private static final String NAME = "resnet20-dropblock";
    private static final Shape IMAGE = new Shape(1, 28, 28);
    private static final Shape BATCH = new Shape(8, 1, 28, 28);
    private static final int CLASSES = 10;
    private static final int TRAINING_STEPS = 3;
    // Reseeds the engine before the training-mode forward, in both JVMs, so both draw the same
    // masks from the same weights.
    private static final int MASK_SEED = 20181029;
    private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(120);

    private static Block resNet(float dropProb) {
        return ResNetDropBlock.builder()
                .setNumLayers(20)
                .setOutSize(CLASSES)
                .setImageShape(IMAGE)
                .optDropProb(dropProb)
                .build();
    }

    @Test
    void modelSavedHereEvaluatesIdenticallyInAFreshJvm(@TempDir Path dir) throws Exception {
        Path modelDir = dir.resolve("model");
        Outputs here;
        try (Model model = Model.newInstance(NAME)) {
            model.setBlock(resNet(0.1f));
            train(model);
            // A distinct drop probability per block, so that a value restored to the wrong block,
            // or not restored at all (the fresh JVM builds the network with 0.05), shows.
            List<DropBlock> dropBlocks = DropBlockScheduler.dropBlocksIn(model.getBlock());
            assertEquals(18, dropBlocks.size());
            for (int i = 0; i < dropBlocks.size(); i++) {
                dropBlocks.get(i).setDropProb(0.01f * (i + 1));
            }
            model.save(modelDir, NAME);
            here = Outputs.of(model);
        }
        Path written = dir.resolve("outputs.bin");
        ForkedJvm.run(
                LoadAndEvaluate.class,
                CHILD_TIMEOUT,
                dir.resolve("child.log"),
                modelDir.toString(),
                written.toString());
        Outputs there = Outputs.read(written);

        assertArrayEquals(here.dropProbs, there.dropProbs);
        assertArrayEquals(here.evaluation, there.evaluation);
        assertArrayEquals(here.seededTraining, there.seededTraining);
        // The outputs say something: training moved the weights off their initial symmetry, and
        // the seeded training forward dropped units, so it differs from the evaluation.
        assertNotEquals(here.evaluation[0], here.evaluation[1]);
        assertFalse(Arrays.equals(here.evaluation, here.seededTraining));
    }

    /** A few SGD steps, so that batch-norm statistics and every weight hold trained values. */
    private static void train(Model model) {
        Engine.getInstance().setRandomSeed(1);
        DefaultTrainingConfig config =
                new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(
                                Optimizer.sgd()
                                        .setLearningRateTracker(Tracker.fixed(0.05f))
                                        .optMomentum(0.9f)
                                        .build());
        try (Trainer trainer = model.newTrainer(config)) {
            trainer.initialize(BATCH);
            for (int step = 0; step < TRAINING_STEPS; step++) {
                NDManager manager = trainer.getManager().newSubManager();
                float[] labels = new float[(int) BATCH.get(0)];
                for (int n = 0; n < labels.length; n++) {
                    labels[n] = (n + step) % CLASSES;
                }
                NDArray x = manager.create(pixels(step), BATCH);
                NDArray y = manager.create(labels, new Shape(labels.length));
                try (Batch batch =
                        new Batch(
                                manager,
                                new NDList(x),
                                new NDList(y),
                                labels.length,
                                Batchifier.STACK,
                                Batchifier.STACK,
                                step,
                                TRAINING_STEPS)) {
                    EasyTrain.trainBatch(trainer, batch);
                    trainer.step();
                }
            }
        }
    }

    private static float[] pixels(long seed) {
        Random random = new Random(seed);
        float[] pixels = new float[(int) BATCH.size()];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        return pixels;
    }

    /** What a model computes: its blocks' drop probabilities and its outputs on a fixed batch. */
    private static final class Outputs {
        final float[] dropProbs;
        final float[] evaluation;
        final float[] seededTraining;

        private Outputs(float[] dropProbs, float[] evaluation, float[] seededTraining) {
            this.dropProbs = dropProbs;
            this.evaluation = evaluation;
            this.seededTraining = seededTraining;
        }

        static Outputs of(Model model) {
            Block net = model.getBlock();
            List<DropBlock> dropBlocks = DropBlockScheduler.dropBlocksIn(net);
            float[] dropProbs = new float[dropBlocks.size()];
            for (int i = 0; i < dropProbs.length; i++) {
                dropProbs[i] = dropBlocks.get(i).getDropProb();
            }
            try (NDManager manager = model.getNDManager().newSubManager()) {
                NDList x = new NDList(manager.create(pixels(99), BATCH));
                ParameterStore store = new ParameterStore(manager, false);
                float[] evaluation = net.forward(store, x, false).singletonOrThrow().toFloatArray();
                Engine.getInstance().setRandomSeed(MASK_SEED);
                float[] training = net.forward(store, x, true).singletonOrThrow().toFloatArray();
                return new Outputs(dropProbs, evaluation, training);
            }
        }

        void write(Path file) throws IOException {
            try (DataOutputStream os = new DataOutputStream(Files.newOutputStream(file))) {
                for (float[] values : List.of(dropProbs, evaluation, seededTraining)) {
                    os.writeInt(values.length);
                    for (float v : values) {
                        os.writeFloat(v);
                    }
                }
            }
        }

        static Outputs read(Path file) throws IOException {
            try (DataInputStream is = new DataInputStream(Files.newInputStream(file))) {
                float[][] parts = new float[3][];
                for (int p = 0; p < parts.length; p++) {
                    parts[p] = new float[is.readInt()];
                    for (int i = 0; i < parts[p].length; i++) {
                        parts[p][i] = is.readFloat();
                    }
                }
                assertEquals(-1, is.read(), "trailing bytes in " + file);
                return new Outputs(parts[0], parts[1], parts[2]);
            }
        }
    }

    /**
     * The fresh JVM: {@code LoadAndEvaluate modelDir outputFile}. Builds the network with another
     * drop probability, loads the saved parameters into it, and writes what it computes.
     */
    static final class LoadAndEvaluate {

        private LoadAndEvaluate() {}

        public static void main(String[] args) throws IOException, MalformedModelException {
            try (Model model = Model.newInstance(NAME)) {
                model.setBlock(resNet(0.05f));
                model.load(Path.of(args[0]), NAME);
                Outputs.of(model).write(Path.of(args[1]));
            }
        }
    }

    // ---- A tampered file, refused through the whole Model.load path ----

    private static final String SMALL = "small-dropblock";
    private static final Shape SMALL_INPUT = new Shape(2, 1, 8, 8);
    // An unusual drop probability whose four bytes mark the DropBlock's section in the file.
    private static final float MARKER_DROP_PROB = 0.1234567f;

    private static SequentialBlock smallNetwork() {
        return new SequentialBlock()
                .add(
                        Conv2d.builder()
                                .setKernelShape(new Shape(3, 3))
                                .setFilters(4)
                                .optPadding(new Shape(1, 1))
                                .build())
                .add(Activation::relu)
                .add(DropBlock.builder().optBlockSize(3).optDropProb(MARKER_DROP_PROB).build())
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(3).build());
    }

    @ParameterizedTest(name = "version {0}")
    @ValueSource(bytes = {0, 3, -1})
    void unknownDropBlockVersionInTheFileIsRefusedByModelLoad(byte version, @TempDir Path dir)
            throws IOException {
        Shape[] dropBlockInputShapes = saveSmallModel(dir);
        Path file = dir.resolve(SMALL + "-0000.params");
        byte[] bytes = Files.readAllBytes(file);
        bytes[versionOffset(bytes, dropBlockInputShapes)] = version;
        Files.write(file, bytes);
        assertEquals(
                "Unsupported DropBlock encoding version: expected 1 or 2, got " + version,
                loadSmallModel(dir));
    }

    @Test
    void outOfRangeDropProbInTheFileIsRefusedByModelLoad(@TempDir Path dir) throws IOException {
        saveSmallModel(dir);
        Path file = dir.resolve(SMALL + "-0000.params");
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer.wrap(bytes).putFloat(markerOffset(bytes), Float.NaN);
        Files.write(file, bytes);
        assertEquals(
                "DropBlock dropProb in the saved model must be in [0, 1), got NaN",
                loadSmallModel(dir));
    }

    /** Saves the small model in {@code dir} and returns its DropBlock's input shapes. */
    private static Shape[] saveSmallModel(Path dir) throws IOException {
        try (Model model = Model.newInstance(SMALL)) {
            SequentialBlock net = smallNetwork();
            model.setBlock(net);
            Engine.getInstance().setRandomSeed(2);
            net.initialize(model.getNDManager(), DataType.FLOAT32, SMALL_INPUT);
            model.save(dir, SMALL);
            return net.getChildren().get(2).getValue().getInputShapes();
        }
    }

    /** Loads the small model and returns the message it was refused with. */
    private static String loadSmallModel(Path dir) {
        try (Model model = Model.newInstance(SMALL)) {
            model.setBlock(smallNetwork());
            return assertThrows(MalformedModelException.class, () -> model.load(dir, SMALL))
                    .getMessage();
        }
    }

    /**
     * Finds the DropBlock's section: its version byte, its input shapes (a count and each shape's
     * encoding) and its drop probability, the marker. Checks the layout before returning the
     * version byte's offset, so that a changed format fails here, not as a puzzling load error.
     */
    private static int versionOffset(byte[] bytes, Shape[] inputShapes) {
        int shapesLength = 0;
        for (Shape shape : inputShapes) {
            shapesLength += shape.getEncoded().length;
        }
        int versionAt = markerOffset(bytes) - shapesLength - Integer.BYTES - 1;
        assertEquals(2, bytes[versionAt], "DropBlock version byte");
        assertEquals(
                inputShapes.length,
                ByteBuffer.wrap(bytes).getInt(versionAt + 1),
                "input shape count");
        return versionAt;
    }

    private static int markerOffset(byte[] bytes) {
        byte[] marker = ByteBuffer.allocate(Float.BYTES).putFloat(MARKER_DROP_PROB).array();
        int found = -1;
        for (int i = 0; i + marker.length <= bytes.length; i++) {
            if (Arrays.equals(bytes, i, i + marker.length, marker, 0, marker.length)) {
                assertEquals(-1, found, "the marker occurs twice");
                found = i;
            }
        }
        assertTrue(found >= 0, "marker not found");
        return found;
    }
}
