package io.github.dropblock4j.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunSummaryTest {

    @Test
    void gapIsLastEpochTrainingAccuracyMinusFinalTestAccuracy() {
        List<EpochMetrics> epochs =
                List.of(
                        EpochMetrics.builder()
                                .setEpoch(1)
                                .setStep(5)
                                .optTrain(1, 0.5)
                                .optTest(1, 0.45)
                                .build(),
                        EpochMetrics.builder()
                                .setEpoch(2)
                                .setStep(10)
                                .optTrain(0.1, 0.99)
                                .optTest(0.8, 0.79)
                                .build());
        RunSummary s =
                new RunSummary(
                        TrainConfig.builder().build(), epochs, 0.79, 0.8, 0.8, 2, 10, 10, null);
        assertEquals(0.20, s.finalTrainTestGap(), 1e-12);
    }
}
