package io.github.dropblock4j.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunSummaryTest {

    @Test
    void gapIsLastEpochTrainingAccuracyMinusFinalTestAccuracy() {
        List<EpochMetrics> epochs =
                List.of(
                        new EpochMetrics(1, 5, 1, 0.5, 1, 0.45, 1, 0.5, 0, 0.1, 1, 10, 100),
                        new EpochMetrics(2, 10, 0.1, 0.99, 0.8, 0.79, 0.7, 0.8, 0, 0, 1, 10, 100));
        RunSummary s =
                new RunSummary(TrainConfig.builder().build(), epochs, 0.79, 0.8, 0.8, 2, 10, 10);
        assertEquals(0.20, s.finalTrainTestGap(), 1e-12);
    }
}
