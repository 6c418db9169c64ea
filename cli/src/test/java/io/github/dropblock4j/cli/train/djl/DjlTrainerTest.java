package io.github.dropblock4j.cli.train.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import io.github.dropblock4j.cli.run.Regularizer;
import io.github.dropblock4j.cli.run.TrainConfig;
import io.github.dropblock4j.core.ResNetLayout;
import io.github.dropblock4j.djl.DropBlock;
import io.github.dropblock4j.djl.DropBlockScheduler;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DjlTrainerTest {

    private static final Shape IMAGE = new Shape(1, 28, 28);

    @ParameterizedTest
    @MethodSource("io.github.dropblock4j.cli.train.TrainCommandTest#everyModelWithEveryStage")
    void everyModelBuildsWithTheRegularizerInEveryOneOfItsStages(String model, int stage) {
        TrainConfig config =
                TrainConfig.builder().optModel(model).optStages(List.of(stage)).build();
        List<DropBlock> inStage =
                DropBlockScheduler.dropBlocksIn(DjlTrainer.network(config, IMAGE, 10));
        // The same network with the regularizer in every stage holds these and the others'.
        List<Integer> all =
                IntStream.rangeClosed(1, ResNetLayout.of(config.depth()).numStages())
                        .boxed()
                        .toList();
        List<DropBlock> everywhere =
                DropBlockScheduler.dropBlocksIn(
                        DjlTrainer.network(config.toBuilder().optStages(all).build(), IMAGE, 10));
        assertTrue(
                !inStage.isEmpty() && inStage.size() < everywhere.size(),
                inStage.size() + " of " + everywhere.size());
    }

    @ParameterizedTest
    @MethodSource("io.github.dropblock4j.cli.train.TrainCommandTest#everyModelWithEveryStage")
    void noRegularizerMeansNoDropBlockWhateverTheStages(String model, int stage) {
        TrainConfig config =
                TrainConfig.builder()
                        .optModel(model)
                        .optStages(List.of(stage))
                        .optRegularizer(Regularizer.NONE)
                        .build();
        Block network = DjlTrainer.network(config, IMAGE, 10);
        assertEquals(List.of(), DropBlockScheduler.dropBlocksIn(network));
    }
}
