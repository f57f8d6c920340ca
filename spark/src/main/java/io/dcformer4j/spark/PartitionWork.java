package io.dcformer4j.spark;

import java.io.Serializable;

/** Built on the driver, shipped with the task: opens the per-partition {@link RowFunction} on the executor. */
interface PartitionWork extends Serializable {

    /** The row function of one partition, on the executor's shared model. */
    RowFunction open();
}
