/** The drivers this server runs, by name; services on a driver that is not enabled are refused. */
import type { DriverName } from '../model/index.ts'
import type { Driver } from './driver.ts'

export class DriverRegistry {
  #drivers = new Map<DriverName, Driver>()

  constructor(drivers: Driver[]) {
    for (const driver of drivers) {
      this.#drivers.set(driver.name, driver)
    }
  }

  get(name: DriverName): Driver | undefined {
    return this.#drivers.get(name)
  }

  all(): Driver[] {
    return [...this.#drivers.values()]
  }

  /** Problems with a target, or the one problem that the driver is not enabled here. */
  checkTarget(name: DriverName, target: Record<string, unknown>): string[] {
    const driver = this.#drivers.get(name)
    if (!driver) {
      return [
        `driver ${name} is not enabled on this server (enabled: ${[...this.#drivers.keys()].join(', ')})`,
      ]
    }
    return driver.checkTarget(target)
  }
}
