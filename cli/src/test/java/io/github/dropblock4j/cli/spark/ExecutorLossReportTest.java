package io.github.dropblock4j.cli.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.junit.jupiter.api.Test;

class ExecutorLossReportTest {

    @Test
    void theLineNamesTheExecutorTheReasonAndWhatHappensNext() {
        String line = ExecutorLossReport.line("1", "Worker shutting down");

        assertTrue(line.startsWith("spark-train: lost executor 1 (Worker shutting down); "), line);
        assertTrue(line.contains("on the executors left"), line);
        assertTrue(line.contains("--resume"), line);
    }

    @Test
    void aReasonOverSeveralLinesStaysOnOneAndAMissingOneIsSaid() {
        assertEquals(
                ExecutorLossReport.line("2", "Command exited with code 137 (killed)"),
                ExecutorLossReport.line("2", "  Command exited\n   with code 137\r\n(killed) "));
        assertTrue(ExecutorLossReport.line("3", null).contains("(no reason given)"));
        assertTrue(ExecutorLossReport.line("3", " ").contains("(no reason given)"));
    }

    @Test
    void eachRemovedExecutorGetsOneLine() {
        StringWriter text = new StringWriter();
        // The listener as Spark's listener bus calls it, without a context.
        ExecutorLossReport report = new ExecutorLossReport(new PrintWriter(text));

        report.onExecutorRemoved(new SparkListenerExecutorRemoved(1L, "1", "worker lost"));
        report.onExecutorRemoved(new SparkListenerExecutorRemoved(2L, "4", "heartbeat timed out"));

        assertEquals(
                ExecutorLossReport.line("1", "worker lost")
                        + System.lineSeparator()
                        + ExecutorLossReport.line("4", "heartbeat timed out")
                        + System.lineSeparator(),
                text.toString());
    }
}
