/**
 * A double-precision Java implementation of one attention step, written from the step's definition
 * and sharing no code with the backends: the yardstick that the demo and the tests hold them to.
 */
package dev.trtllm4j.reference;
