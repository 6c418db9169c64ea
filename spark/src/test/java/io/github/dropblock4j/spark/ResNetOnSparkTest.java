package io.github.dropblock4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.dropblock4j.dl4j.DropBlock;
import io.github.dropblock4j.dl4j.KeepProbSchedule;
import io.github.dropblock4j.dl4j.ResNetDropBlock;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

/** The DL4J ResNet with DropBlock, trained and broadcast by Spark on local[2]. */
class ResNetOnSparkTest {

    private static final int WORKERS = 2;
    private static final int BATCH = 16;
    private static final int AVERAGING = 4;
    // 14x14 images (2x2 pixels averaged): a quarter of the cost of 28x28.
    private static final int SHRINK = 2;
    private static final double TARGET_KEEP = 0.9;
    // Ten balanced classes: chance is 0.1. Two epochs on 768 images reached 0.57 (measured). The
    // test does not seed the generators of Spark's worker threads, which draw the DropBlock masks,
    // so runs differ: 0.4, four times chance, leaves room for that.
    private static final double MIN_ACCURACY = 0.4;

    private static JavaSparkContext sc;

    @BeforeAll
    static void startSpark() {
        SparkJvmOptions.requireOpen();
        sc =
                new JavaSparkContext(
                        new SparkConf()
                                .setMaster("local[" + WORKERS + "]")
                                .setAppName("ResNetOnSparkTest")
                                .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stopSpark() {
        sc.close();
    }

    @Test
    void resNetWithDropBlockLearnsHeldOutFashionMnistOnLocal2() {
        int epochs = 2;
        List<DataSet> train = FashionMnistSubset.minibatches("train", 48, BATCH, SHRINK);
        List<DataSet> test = FashionMnistSubset.minibatches("t10k", 16, BATCH, SHRINK);
        ScheduleAwareTrainingMaster master = new ScheduleAwareTrainingMaster(paramAvg());
        int steps = epochs * master.stepsPerEpoch(train.size());
        ComputationGraphConfiguration conf =
                resNet(KeepProbSchedule.linear(TARGET_KEEP, steps - 1));
        Nd4j.getRandom().setSeed(7);
        SparkComputationGraph net = new SparkComputationGraph(sc, conf, master);
        JavaRDD<DataSet> trainRdd = master.parallelizeEvenly(sc, train);
        long start = System.nanoTime();

        for (int epoch = 0; epoch < epochs; epoch++) {
            net.fit(trainRdd);
        }
        Evaluation evaluation = net.evaluate(sc.parallelize(test, WORKERS));

        System.out.printf(
                "ResNet-20 on local[2]: %d steps in %.1f s, held-out accuracy %.3f%n",
                steps, (System.nanoTime() - start) / 1e9, evaluation.accuracy());
        assertEquals(steps, net.getNetwork().getIterationCount());
        assertEquals(16 * BATCH, evaluation.getNumRowCounter());
        assertTrue(
                evaluation.accuracy() > MIN_ACCURACY,
                "held-out accuracy " + evaluation.accuracy() + " not above " + MIN_ACCURACY);
    }

    @Test
    void configurationWithDropBlockSurvivesTheBroadcastAndComesBackEqual() {
        ComputationGraphConfiguration conf = resNet(KeepProbSchedule.linear(TARGET_KEEP, 100));
        Broadcast<ComputationGraphConfiguration> broadcast = sc.broadcast(conf);

        // Each worker reads the broadcast; collect sends its copy back, serialized once more.
        List<ComputationGraphConfiguration> back =
                sc.parallelize(List.of(1, 2), WORKERS).map(i -> broadcast.value()).collect();

        assertEquals(WORKERS, back.size());
        for (ComputationGraphConfiguration copy : back) {
            assertEquals(conf, copy);
            assertEquals(conf.toJson(), copy.toJson());
            List<DropBlock> dropBlocks = dropBlocks(copy);
            assertEquals(dropBlocks(conf), dropBlocks);
            assertTrue(dropBlocks.size() > 0, "no DropBlock in " + copy.getVertices().keySet());
            assertEquals(
                    KeepProbSchedule.linear(TARGET_KEEP, 100),
                    dropBlocks.get(0).getKeepProbSchedule());
        }
    }

    private static List<DropBlock> dropBlocks(ComputationGraphConfiguration conf) {
        return conf.getVertices().values().stream()
                .filter(v -> v instanceof LayerVertex)
                .map(v -> ((LayerVertex) v).getLayerConf().getLayer())
                .filter(l -> l instanceof DropoutLayer && l.getIDropout() instanceof DropBlock)
                .map(l -> (DropBlock) l.getIDropout())
                .toList();
    }

    private static ComputationGraphConfiguration resNet(KeepProbSchedule schedule) {
        return ResNetDropBlock.builder()
                .setNumLayers(20)
                .setOutSize(10)
                .setImageShape(1, 28 / SHRINK, 28 / SHRINK)
                .optBlockSize(3)
                .optKeepProbSchedule(schedule)
                .optUpdater(new Adam(1e-3))
                .optSeed(42)
                .build();
    }

    private static ParameterAveragingTrainingMaster.Builder paramAvg() {
        return new ParameterAveragingTrainingMaster.Builder(WORKERS, BATCH)
                .batchSizePerWorker(BATCH)
                .averagingFrequency(AVERAGING)
                .workerPrefetchNumBatches(0)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .repartionData(Repartition.Never)
                .saveUpdater(true)
                .rngSeed(42L);
    }
}
