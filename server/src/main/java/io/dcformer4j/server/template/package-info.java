/** Functions that chat templates call (jinjava reaches them by reflection). Not an API. */
package io.dcformer4j.server.template;
