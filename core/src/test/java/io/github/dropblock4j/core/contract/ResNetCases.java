package io.github.dropblock4j.core.contract;

import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Test support: the ResNet cases both adapters build, as {@code (depth, channels, size)} of a
 * square image. Use it as
 * {@code @MethodSource("io.github.dropblock4j.core.contract.ResNetCases#everyDepth")}.
 */
public final class ResNetCases {

    private ResNetCases() {}

    /**
     * Every depth of both families once, on the image size it is meant for, and the cases where the
     * stem has to adapt: a CIFAR depth on a large image, an ImageNet depth on a small one, and a
     * size that is not a power of two.
     *
     * @return {@code (depth, channels, size)} arguments
     */
    public static Stream<Arguments> everyDepth() {
        return Stream.of(
                Arguments.of(20, 1, 28),
                Arguments.of(32, 3, 32),
                Arguments.of(44, 1, 28),
                Arguments.of(56, 3, 32),
                Arguments.of(110, 1, 28),
                Arguments.of(18, 3, 64),
                Arguments.of(34, 3, 64),
                Arguments.of(50, 3, 64),
                Arguments.of(101, 3, 64),
                Arguments.of(152, 3, 64),
                Arguments.of(18, 1, 28),
                // A CIFAR depth on a large image: the downsampling stem must keep the 16 filters
                // that stage 1's identity shortcuts add to.
                Arguments.of(20, 3, 64),
                Arguments.of(56, 1, 48));
    }
}
