package io.github.dropblock4j.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import io.github.dropblock4j.core.GammaMode;
import io.github.dropblock4j.core.MaskSharing;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DropBlockSerializationTest {

    private static final Shape INPUT = new Shape(2, 1, 8, 8);

    private static SequentialBlock network(float dropProb) {
        return new SequentialBlock()
                .add(
                        Conv2d.builder()
                                .setKernelShape(new Shape(3, 3))
                                .setFilters(4)
                                .optPadding(new Shape(1, 1))
                                .build())
                .add(Activation::relu)
                .add(DropBlock.builder().optBlockSize(3).optDropProb(dropProb).build())
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(3).build());
    }

    @Test
    void modelWithDropBlockSavesAndLoads(@TempDir Path dir)
            throws IOException, MalformedModelException {
        float[] before;
        try (Model model = Model.newInstance("dropblock")) {
            SequentialBlock net = network(0.25f);
            model.setBlock(net);
            net.initialize(model.getNDManager(), DataType.FLOAT32, INPUT);
            before = evaluate(model, net);
            model.save(dir, "dropblock");
        }
        try (Model loaded = Model.newInstance("dropblock")) {
            SequentialBlock net = network(0.05f);
            loaded.setBlock(net);
            loaded.load(dir, "dropblock");
            DropBlock dropBlock = (DropBlock) net.getChildren().get(2).getValue();
            assertEquals(0.25f, dropBlock.getDropProb());
            assertArrayEquals(before, evaluate(loaded, net));
        }
    }

    @Test
    void maskSettingsAreSavedAndRestored(@TempDir Path dir)
            throws IOException, MalformedModelException {
        DropBlock saved =
                DropBlock.builder()
                        .optBlockFraction(0.25, 0.5)
                        .optGammaMode(GammaMode.PAPER)
                        .optMaskSharing(MaskSharing.PER_SAMPLE)
                        .optDropProb(0.2f)
                        .build();
        try (Model model = Model.newInstance("settings")) {
            SequentialBlock net = new SequentialBlock().add(saved);
            model.setBlock(net);
            net.initialize(model.getNDManager(), DataType.FLOAT32, INPUT);
            model.save(dir, "settings");
        }
        try (Model loaded = Model.newInstance("settings")) {
            DropBlock restored = DropBlock.builder().build();
            loaded.setBlock(new SequentialBlock().add(restored));
            loaded.load(dir, "settings");
            assertEquals(saved.getMaskSettings(), restored.getMaskSettings());
            assertEquals(saved.toString(), restored.toString());
        }
    }

    private static float[] evaluate(Model model, SequentialBlock net) {
        try (NDManager manager = model.getNDManager().newSubManager()) {
            float[] values = new float[(int) INPUT.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (i % 7) / 7f;
            }
            NDArray x = manager.create(values, INPUT);
            return net.forward(new ParameterStore(manager, false), new NDList(x), false)
                    .singletonOrThrow()
                    .toFloatArray();
        }
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = ';',
            value = {
                "9; 0.1; Unsupported DropBlock encoding version: expected 1 or 2, got 9",
                "1; 1.5; DropBlock dropProb in the saved model must be in [0, 1), got 1.5"
            })
    void badSavedMetadataIsRefused(byte version, float dropProb, String message)
            throws IOException {
        DropBlock dropBlock = DropBlock.builder().build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream os = new DataOutputStream(bytes)) {
            os.writeByte(version);
            os.writeInt(0);
            os.writeFloat(dropProb);
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            MalformedModelException e =
                    assertThrows(
                            MalformedModelException.class,
                            () ->
                                    dropBlock.loadParameters(
                                            manager,
                                            new DataInputStream(
                                                    new ByteArrayInputStream(
                                                            bytes.toByteArray()))));
            assertEquals(message, e.getMessage());
        }
    }
}
