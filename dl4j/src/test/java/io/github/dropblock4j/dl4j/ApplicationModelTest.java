package io.github.dropblock4j.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * A DL4J model that the application ({@code ./dropblock4j train --framework dl4j}) writes restores
 * with this library alone: this module cannot depend on the application, so its test class path
 * holds no application class, as a library user's would not.
 *
 * <p>The resource is the {@code configuration.json} of the {@code model.zip} that the application
 * wrote with {@code ./dropblock4j train --framework dl4j --train-limit 640 --test-limit 200
 * --epochs 1}, gzipped ({@code unzip -p model/model.zip configuration.json | gzip -9n}). The
 * configuration is the part of a saved model that names classes: the learning-rate schedule of
 * every layer, the DropBlocks and their keep-probability schedules; before {@link CosineSchedule}
 * moved into this library, the application's schedule class was named there 61 times and no user
 * could restore the model. The rest of {@code model.zip} is the weights and the updater's state,
 * arrays of numbers that name no class, and would make the resource 2 MB instead of 5 KB; so the
 * test gives the application's configuration fresh weights and writes and restores it with {@code
 * ModelSerializer} (with the updater) as the application does. Regenerate the resource when the
 * application's network changes.
 */
class ApplicationModelTest {

    private static final String RESOURCE = "resnet20-app-configuration.json.gz";
    private static final Pattern CLASS = Pattern.compile("\"@class\" : \"([^\"]+)\"");

    private static String applicationConfiguration() throws IOException {
        try (InputStream in = ApplicationModelTest.class.getResourceAsStream(RESOURCE)) {
            assertTrue(in != null, RESOURCE + " is missing");
            return new String(new GZIPInputStream(in).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theClassPathHasNoApplicationClass() {
        assertThrows(
                ClassNotFoundException.class,
                () -> Class.forName("io.github.dropblock4j.cli.DropBlockCli"));
    }

    @Test
    void theApplicationsModelNamesOnlyLibraryClasses() throws Exception {
        String json = applicationConfiguration();
        assertFalse(json.contains("io.github.dropblock4j.cli"));
        Set<String> ours = new TreeSet<>();
        Matcher m = CLASS.matcher(json);
        while (m.find()) {
            Class.forName(m.group(1));
            if (m.group(1).startsWith("io.github.dropblock4j.")) {
                ours.add(m.group(1));
            }
        }
        assertEquals(
                Set.of(
                        "io.github.dropblock4j.dl4j.CosineSchedule",
                        "io.github.dropblock4j.dl4j.DropBlock",
                        "io.github.dropblock4j.dl4j.KeepProbSchedule"),
                ours);
    }

    @Test
    void theApplicationsModelRestoresAndTrainsOn(@TempDir Path dir) throws Exception {
        ComputationGraphConfiguration conf =
                ComputationGraphConfiguration.fromJson(applicationConfiguration());
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        File file = dir.resolve("model.zip").toFile();
        ModelSerializer.writeModel(net, file, true);

        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertEquals(net.params(), restored.params());
        // The run trained 10 steps of 64 images; its learning rate fell on a cosine over them.
        assertEquals(10, restored.getConfiguration().getIterationCount());
        int schedules = 0;
        int dropBlocks = 0;
        for (GraphVertex vertex : restored.getConfiguration().getVertices().values()) {
            if (!(vertex instanceof LayerVertex)) {
                continue;
            }
            Layer layer = ((LayerVertex) vertex).getLayerConf().getLayer();
            if (layer instanceof BaseLayer) {
                Nesterovs updater = (Nesterovs) ((BaseLayer) layer).getIUpdater();
                // The application keeps --lr as a float.
                assertEquals(new CosineSchedule(0.1f, 10), updater.getLearningRateSchedule());
                schedules++;
            }
            if (layer.getIDropout() != null) {
                DropBlock dropBlock = assertInstanceOf(DropBlock.class, layer.getIDropout());
                assertEquals(7, dropBlock.getMaskSettings().blockSize()[0]);
                assertInstanceOf(KeepProbSchedule.class, dropBlock.getKeepProbSchedule());
                dropBlocks++;
            }
        }
        // 21 convolutions, 21 batch norms, the 18 DropBlock layers and the output layer.
        assertEquals(61, schedules);
        assertEquals(18, dropBlocks);

        Nd4j.getRandom().setSeed(3);
        INDArray images = Nd4j.randn(4, 1, 28, 28);
        assertEquals(net.outputSingle(false, images), restored.outputSingle(false, images));
        restored.fit(new DataSet(images, Nd4j.eye(10).getRows(0, 1, 2, 3)));
        assertEquals(11, restored.getIterationCount());
    }
}
