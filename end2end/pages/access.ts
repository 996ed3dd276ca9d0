// Page object for the Access page: your access, every binding (add, remove) and the simulator.
import { type Locator } from '@playwright/test';
import { Shell } from './shell';

export class AccessPage {
  readonly yourBindings: Locator;
  readonly yourActions: Locator;
  readonly allBindings: Locator;
  readonly addForm: Locator;
  readonly addButton: Locator;
  readonly simulator: Locator;
  readonly simulated: Locator;

  constructor(readonly shell: Shell) {
    const main = shell.main;
    this.yourBindings = main.getByRole('table', { name: 'Role bindings that apply to you' });
    this.yourActions = main.getByRole('table', { name: 'What you may do everywhere' });
    this.allBindings = main.getByRole('table', { name: 'All role bindings' });
    this.addForm = main.getByRole('form', { name: 'Add a role binding' });
    // For people who may not manage access: the disabled control that says who may.
    this.addButton = main.getByRole('button', { name: 'Add a role binding' });
    this.simulator = main.getByRole('form', { name: 'What can this group do?' });
    this.simulated = main.getByRole('table', { name: 'Simulated access' });
  }

  async open() {
    await this.shell.goto('/access');
  }

  /** A row of the "what you may do everywhere" table. */
  action(name: string): Locator {
    return this.yourActions.getByRole('row').filter({ hasText: name });
  }

  /** The row of every-binding table for `group <name>`. */
  bindingOf(group: string): Locator {
    return this.allBindings.getByRole('row').filter({ hasText: `group ${group}` });
  }

  /** Fills and submits the add form (role and place optional: viewer, everywhere). */
  async add(subject: string, role?: string, where?: string) {
    await this.addForm.getByLabel('Group or user').fill(subject);
    if (role) await this.addForm.getByLabel('Role').selectOption(role);
    if (where) await this.addForm.getByLabel('Where').selectOption(where);
    await this.addForm.getByRole('button', { name: 'Add binding' }).click();
    await this.shell.waitUntilInteractive();
  }

  /** Removes the binding of `group <name>` with its row's button. */
  async remove(group: string) {
    await this.bindingOf(group).getByRole('button', { name: `Remove group ${group}` }).click();
    await this.shell.waitUntilInteractive();
  }

  /** Asks the simulator what a group may do. */
  async simulate(group: string) {
    await this.simulator.getByLabel('Group or user').fill(group);
    await this.simulator.getByRole('button', { name: 'Show access' }).click();
    await this.shell.waitUntilInteractive();
  }

  /** The simulator's row for a place: `portal-wide` or `cluster <namespace>/<name>`. */
  simulatedAt(place: string): Locator {
    return this.simulated.getByRole('row').filter({ hasText: place });
  }
}
